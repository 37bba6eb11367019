"""Search pages and API: the portal side of the search/ package, and the
mechanism that keeps the index in step with the database.

routes.py (pages, blueprint `search`), api.py (JSON), services.py (queries for a
user), indexing.py (the outbox and documents), tasks.py (draining the outbox)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Open the index, and add "more like this" to the asset page."""
    from flask_login import current_user

    from portal.ratelimit import RateLimit
    from portal.search import indexing, services
    from portal.viewhelpers import add_asset_page_section

    indexing.init_app(app)
    app.extensions["collateral_search_limit"] = RateLimit(
        "searches", app.config["SETTINGS"].searches_per_minute, per_seconds=60)
    add_asset_page_section(app, "more_like_this", lambda asset: services.more_like_this(current_user, asset))
