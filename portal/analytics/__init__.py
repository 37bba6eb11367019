"""Usage analytics, content scores, search gaps and retirement."""

from flask import Blueprint, Flask

bp = Blueprint("analytics", __name__, url_prefix="/analytics")


def init_app(app: Flask) -> None:
    from portal.analytics import api, routes  # noqa: F401  (attach views to bp and the API blueprint)

    app.register_blueprint(bp)
