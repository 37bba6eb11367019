"""Keeping things API (docs/api.md, "Reading and keeping"): favourites, collections
and kits, and the home page as JSON."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user
from sqlalchemy import func, select

from portal.access import EVERYONE, allow
from portal.api import json_body, listing, pagination
from portal.api.spec import (
    BOOLEAN,
    DATETIME,
    ID,
    INTEGER,
    PAGING,
    STRING,
    api_doc,
    array,
    enum,
    listing_of,
    nullable,
    obj,
)
from portal.collections import favorites, home, services
from portal.extensions import db
from portal.library.api import ASSET
from portal.library.serializers import asset_json, iso
from portal.library.stats import stats_for
from portal.models import Asset, AssetVersion, Collection, User

bp = Blueprint("collections", __name__)  # mounted under /api/v1 by create_app

KEPT = {**ASSET, "properties": {**ASSET["properties"], "available": BOOLEAN, "unavailable_reason": nullable(STRING),
                                "superseded_by": nullable(obj({"id": INTEGER, "title": STRING}))},
        "required": [*ASSET["required"], "available", "unavailable_reason", "superseded_by"]}
AUDIENCE = obj({"everyone": BOOLEAN, "teams": array(STRING), "regions": array(STRING)})
SUMMARY = obj({
    "id": INTEGER, "title": STRING, "description": STRING,
    "owner": obj({"id": INTEGER, "email": STRING, "name": STRING}), "shared_with": AUDIENCE,
    "kind": enum("personal", "kit"), "editable": BOOLEAN, "item_count": INTEGER,
    "created_at": DATETIME, "updated_at": DATETIME,
})
COLLECTION = {**SUMMARY, "properties": {**SUMMARY["properties"], "items": array(KEPT)},
              "required": [*SUMMARY["required"], "items"]}
COLLECTION_BODY = obj({"title": {**STRING, "minLength": 1, "maxLength": services.TITLE_LIMIT},
                       "description": {**STRING, "maxLength": services.DESCRIPTION_LIMIT},
                       "asset_ids": array(ID, maxItems=services.MAX_ITEMS),
                       "shared_with": obj(AUDIENCE["properties"], required=[])}, required=["title"])
HOME = obj({"recently_viewed": array(KEPT), "favorites": array(KEPT), "collections": array(SUMMARY),
            "new_and_updated": array(ASSET), "recommended": array(obj({"asset": ASSET, "reason": STRING}))})


class AssetFacts:
    """What asset JSON needs besides the row, for many assets in two queries: usage and
    rating (stats_for) and the number of versions."""

    def __init__(self, assets: list[Asset]):
        ids = list({a.id for a in assets})
        self.stats = stats_for(ids)
        self.versions = dict(db.session.execute(
            select(AssetVersion.asset_id, func.count()).where(AssetVersion.asset_id.in_(ids))
            .group_by(AssetVersion.asset_id)).all()) if ids else {}

    def json(self, asset: Asset) -> dict:
        return asset_json(asset, self.stats[asset.id], self.versions.get(asset.id, 0))


def kept_json(state: services.ItemState, facts: AssetFacts) -> dict:
    """An asset as kept: the asset, whether reps can open it, and what replaced it when retired."""
    newer = state.newer
    return {**facts.json(state.asset), "available": state.available,
            "unavailable_reason": state.label,
            "superseded_by": {"id": newer.id, "title": newer.title} if newer else None}


def kept_list(user: User, assets: list[Asset]) -> list[dict]:
    states = services.item_states(user, assets)
    facts = AssetFacts([s.asset for s in states])
    return [kept_json(s, facts) for s in states]


def collection_summary(collection: Collection, user: User, count: int) -> dict:
    audience = services.audience_of(collection)
    return {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "owner": {"id": collection.owner.id, "email": collection.owner.email, "name": collection.owner.display_name},
        "shared_with": {"everyone": audience.everyone, "teams": audience.teams, "regions": audience.regions},
        "kind": "kit" if audience.is_shared else "personal",
        "editable": services.can_edit(user, collection),
        "item_count": count,
        "created_at": iso(collection.created_at),
        "updated_at": iso(collection.updated_at),
    }


def collection_json(collection: Collection, user: User) -> dict:
    items = kept_list(user, [item.asset for item in collection.items])
    return {**collection_summary(collection, user, len(collection.items)), "items": items}


def summaries(collections: list[Collection], user: User) -> list[dict]:
    counts = services.item_counts(c.id for c in collections)
    return [collection_summary(c, user, counts.get(c.id, 0)) for c in collections]


@bp.get("/favorites")
@allow(*EVERYONE)
@api_doc(query=PAGING, responses={200: listing_of(KEPT)})
def list_favorites():
    """The caller's favourites, newest first (retired ones marked, with what superseded them)."""
    page, per_page = pagination()
    result = favorites.list_favorites(current_user, page, per_page)
    return listing(kept_list(current_user, result.items), result.total, page, per_page)


@bp.put("/favorites/<int:asset_id>")
@allow(*EVERYONE)
@api_doc(responses={204: None})
def put_favorite(asset_id: int):
    """Favourite an item the caller may see (again is fine)."""
    favorites.add_favorite(current_user, asset_id)
    return "", 204


@bp.delete("/favorites/<int:asset_id>")
@allow(*EVERYONE)
@api_doc(responses={204: None})
def delete_favorite(asset_id: int):
    """Un-favourite an item (not a favourite: still 204)."""
    favorites.remove_favorite(current_user, asset_id)
    return "", 204


@bp.get("/collections")
@allow(*EVERYONE)
@api_doc(query=PAGING, responses={200: listing_of(SUMMARY)})
def list_collections():
    """The caller's collections, then the kits shared with them (everyone, their team, their region)."""
    page, per_page = pagination()
    result = services.list_collections(current_user, page, per_page)
    return listing(summaries(result.items, current_user), result.total, page, per_page)


@bp.post("/collections")
@allow(*EVERYONE)
@api_doc(json=COLLECTION_BODY, responses={201: COLLECTION})
def create_collection():
    """Create a collection: {"title", "description", "asset_ids", "shared_with"}; sharing is for staff."""
    collection = services.create_collection(current_user, services.parse_collection(json_body()))
    return collection_json(collection, current_user), 201


@bp.get("/collections/<int:collection_id>")
@allow(*EVERYONE)
@api_doc(responses={200: COLLECTION})
def get_collection(collection_id: int):
    """One collection with its items in order."""
    return collection_json(services.get_collection_for(current_user, collection_id), current_user)


@bp.put("/collections/<int:collection_id>")
@allow(*EVERYONE)
@api_doc(json=COLLECTION_BODY, responses={200: COLLECTION})
def put_collection(collection_id: int):
    """Replace title, description and, when sent, items (asset_ids, in order) and sharing."""
    collection = services.get_editable_for(current_user, collection_id)
    data = json_body()
    parsed = services.parse_collection(data)
    if "asset_ids" not in data:
        parsed.asset_ids = None
    if "shared_with" not in data:
        parsed.audience = None
    return collection_json(services.update_collection(current_user, collection, parsed), current_user)


@bp.delete("/collections/<int:collection_id>")
@allow(*EVERYONE)
@api_doc(responses={204: None})
def delete_collection(collection_id: int):
    """Delete a collection the caller owns (admins: any)."""
    services.delete_collection(services.get_editable_for(current_user, collection_id))
    return "", 204


@bp.get("/home")
@allow(*EVERYONE)
@api_doc(responses={200: HOME})
def get_home():
    """What the caller needs today: recently viewed, favourites, collections and kits, new and
    updated in their region and products this month, and recommendations with their reasons."""
    page = home.home_for(current_user)
    facts = AssetFacts(page.assets())
    return {
        "recently_viewed": [kept_json(s, facts) for s in page.recently_viewed],
        "favorites": [kept_json(s, facts) for s in page.favorites],
        "collections": summaries([*page.kits, *page.collections], current_user),
        "new_and_updated": [facts.json(a) for a in page.new_and_updated],
        "recommended": [{"asset": facts.json(r.asset), "reason": r.reason} for r in page.recommended],
    }
