"""Administration: users, roles, teams and regions; API tokens; system health."""

from flask import Blueprint, Flask

bp = Blueprint("admin", __name__, url_prefix="/admin")


def init_app(app: Flask) -> None:
    from portal.admin import routes  # noqa: F401

    app.register_blueprint(bp)
