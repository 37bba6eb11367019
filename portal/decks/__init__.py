"""Meeting decks assembled from slides of existing decks.

routes.py (pages, blueprint `decks`), api.py (JSON), services.py (use cases),
building.py (assembling the .pptx off the request, kept per revision), tasks.py."""

from flask import Flask


def init_app(app: Flask) -> None:
    """The deck tray in every page and the nav badge."""
    from portal.decks import services
    from portal.viewhelpers import add_nav_badges

    add_nav_badges(app, services.nav_badges)

    @app.context_processor
    def deck_tray_helpers() -> dict:
        return {"deck_tray": services.tray_for}
