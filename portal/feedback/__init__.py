"""Feedback from the field: ratings, reported uses, flags, the review queue,
"My activity", "My collateral" and notifications.

routes.py (pages, blueprint `feedback`), api.py (JSON), services.py."""

from flask import Flask


def init_app(app: Flask) -> None:
    """The feedback section of the asset page and the nav badges."""
    from portal.feedback import routes, services
    from portal.viewhelpers import add_asset_page_section, add_nav_badges

    add_asset_page_section(app, "feedback", routes.asset_section)
    add_nav_badges(app, services.nav_badges)
