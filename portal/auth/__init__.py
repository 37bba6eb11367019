"""Signing in and out."""

from flask import Blueprint, Flask

bp = Blueprint("auth", __name__)


def init_app(app: Flask) -> None:
    from portal.auth import routes  # noqa: F401

    app.register_blueprint(bp)
