"""Meeting decks assembled from slides of existing decks.

routes.py (pages, blueprint `decks`), api.py (JSON), services.py (use cases),
building.py (assembling the .pptx off the request, kept per revision), lineage.py (slides
that are the same slide across decks), tasks.py."""

from flask import Flask


def init_app(app: Flask) -> None:
    """The deck tray in every page and the nav badge."""
    from flask_login import current_user

    from portal.decks import lineage, services
    from portal.viewhelpers import add_asset_page_section, add_nav_badges

    add_nav_badges(app, services.nav_badges)
    # "This slide also appears in N decks", per slide of the asset page (lineage.py).
    add_asset_page_section(app, "slide_lineage", lambda asset: lineage.asset_section(asset, current_user))

    @app.context_processor
    def deck_tray_helpers() -> dict:
        return {"deck_tray": services.tray_for}
