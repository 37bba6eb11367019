"""Search pages and API: the portal side of the search/ package."""

from flask import Blueprint, Flask

bp = Blueprint("search", __name__)


def init_app(app: Flask) -> None:
    from flask_login import current_user

    from portal.search_views import routes, services
    from portal.viewhelpers import add_asset_page_section

    add_asset_page_section(app, "more_like_this", lambda asset: services.more_like_this(current_user, asset))
    del routes  # imported for its views
    app.register_blueprint(bp)
