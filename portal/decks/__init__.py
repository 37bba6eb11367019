"""Meeting decks assembled from slides of existing decks."""

from flask import Blueprint, Flask

bp = Blueprint("decks", __name__)


def init_app(app: Flask) -> None:
    from portal.decks import api, routes, services  # noqa: F401  (attach views to bp and the API blueprint)
    from portal.viewhelpers import add_nav_badges

    app.register_blueprint(bp)
    add_nav_badges(app, services.nav_badges)

    @app.context_processor
    def deck_tray_helpers() -> dict:
        return {"deck_tray": services.tray_for}
