"""The collateral library: browse, upload, versions, retire, download."""

from flask import Blueprint, Flask

bp = Blueprint("library", __name__)


def init_app(app: Flask) -> None:
    from portal.library import routes  # noqa: F401  (attaches the views to bp)

    app.register_blueprint(bp)
