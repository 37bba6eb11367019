"""Keeping things: favourites, personal collections and the kits staff curate for
teams, regions or everyone; what a user viewed last; and the home page that puts
them together with recommendations explained in words.

routes.py (pages, blueprint `collections`), api.py (JSON), favorites.py,
services.py (collections and kits), recently_viewed.py, recommendations.py
(the derived tables and what they suggest), home.py, tasks.py."""

from flask import Flask, g
from flask_login import current_user


def init_app(app: Flask) -> None:
    """What the favourite button and "Add to collection" need on any page, loaded once a request."""
    from portal.collections import favorites, services

    def favorite_ids() -> set[int]:
        if "collateral_favorite_ids" not in g:
            g.collateral_favorite_ids = favorites.favorite_ids(current_user) if current_user.is_authenticated \
                else set()
        return g.collateral_favorite_ids

    def collections_to_add_to() -> list:
        if "collateral_own_collections" not in g:
            g.collateral_own_collections = services.editable_collections(current_user) \
                if current_user.is_authenticated else []
        return g.collateral_own_collections

    @app.teardown_request
    def _forget(_error: BaseException | None) -> None:
        # g outlives the request when a caller keeps one app context (tests, CLI).
        g.pop("collateral_favorite_ids", None)
        g.pop("collateral_own_collections", None)

    @app.context_processor
    def keeping_helpers() -> dict:
        return {"is_favorite": lambda asset_id: asset_id in favorite_ids(),
                "collections_to_add_to": collections_to_add_to}
