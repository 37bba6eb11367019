"""Feedback from the field: ratings, reported uses, flags, the review queue,
"My activity", "My collateral" and notifications."""

from flask import Blueprint, Flask

bp = Blueprint("feedback", __name__)


def init_app(app: Flask) -> None:
    from portal.feedback import api, routes, services  # noqa: F401  (attach views to bp and the API blueprint)
    from portal.viewhelpers import add_asset_page_section, add_nav_badges

    app.register_blueprint(bp)
    add_asset_page_section(app, "feedback", routes.asset_section)
    add_nav_badges(app, services.nav_badges)
