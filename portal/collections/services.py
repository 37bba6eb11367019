"""Use cases of collections: a user's own ordered lists, and kits (collections staff
share with teams, regions or everyone). Plain arguments in; no request or session.

Who sees what: the owner sees and edits their collections; everyone sees the kits
shared with everyone, with their team or with their region (read only); admins may
open and edit any collection. Only staff share beyond themselves (403 for reps).

Items stay when their asset is retired or expires: they show as such (with the newer
item when one superseded it), never as a broken link."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, or_, select
from werkzeug.exceptions import Forbidden, NotFound

from portal.errors import InvalidInput
from portal.extensions import db
from portal.ids import whole_number
from portal.library.services import get_asset_for, hidden_from_reps_clause
from portal.models import (
    Asset,
    AssetStatus,
    Collection,
    CollectionItem,
    CollectionShare,
    User,
    utcnow,
)
from portal.pagination import Listing

MAX_COLLECTIONS = 100  # a user's own collections and kits
MAX_ITEMS = 200  # per collection
MAX_AUDIENCES = 50  # teams, and regions, a kit is shared with
TITLE_LIMIT = 200
DESCRIPTION_LIMIT = 2000
AUDIENCE_LIMIT = 100  # characters of a team or region name (as users.team and users.region)
TEAM, REGION = "team", "region"


# --- input ---------------------------------------------------------------------

@dataclass
class Audience:
    """Whom a collection is shared with beyond its owner."""

    everyone: bool = False
    teams: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)

    @property
    def is_shared(self) -> bool:
        return self.everyone or bool(self.teams) or bool(self.regions)


@dataclass
class CollectionInput:
    title: str
    description: str = ""
    asset_ids: list[int] | None = None  # None: keep the items as they are
    audience: Audience | None = None  # None: keep the sharing as it is


def parse_title(raw: object) -> str:
    if raw is not None and not isinstance(raw, str):
        raise InvalidInput("Some fields need attention.", {"title": "The title must be text."})
    title = re.sub(r"\s+", " ", raw or "").strip()
    if not title:
        raise InvalidInput("Give the collection a name.", {"title": "A title is required."})
    if len(title) > TITLE_LIMIT:
        raise InvalidInput(f"A title has at most {TITLE_LIMIT} characters.", {"title": "Too long."})
    return title


def parse_description(raw: object) -> str:
    if raw is not None and not isinstance(raw, str):
        raise InvalidInput("Some fields need attention.", {"description": "The description must be text."})
    description = (raw or "").strip()
    if len(description) > DESCRIPTION_LIMIT:
        raise InvalidInput(f"A description has at most {DESCRIPTION_LIMIT} characters.",
                           {"description": "Too long."})
    return description


def parse_asset_ids(raw: object) -> list[int]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidInput("Send asset_ids as a list of item ids.", {"asset_ids": "Not a list."})
    try:
        ids = list(dict.fromkeys(whole_number(item) for item in raw))
    except ValueError:
        raise InvalidInput("asset_ids holds item ids (whole numbers).", {"asset_ids": "Not ids."}) from None
    if len(ids) > MAX_ITEMS:
        raise InvalidInput(f"A collection holds at most {MAX_ITEMS} items; this one would hold {len(ids)}.",
                           {"asset_ids": "Too many items."})
    return ids


def parse_names(raw: object, label: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise InvalidInput(f"shared_with.{label} is a list of names.", {"shared_with": f"{label}: not names."})
    names = list(dict.fromkeys(name.strip() for name in raw if name.strip()))
    if len(names) > MAX_AUDIENCES:
        raise InvalidInput(f"A kit is shared with at most {MAX_AUDIENCES} {label}.", {"shared_with": "Too many."})
    if any(len(name) > AUDIENCE_LIMIT for name in names):
        raise InvalidInput(f"Names of {label} have at most {AUDIENCE_LIMIT} characters.",
                           {"shared_with": "Name too long."})
    return names


def parse_audience(raw: object) -> Audience:
    """{"everyone": bool, "teams": [...], "regions": [...]} (null or absent: nobody else)."""
    if raw is None:
        return Audience()
    if not isinstance(raw, dict):
        raise InvalidInput("shared_with is an object: {\"everyone\", \"teams\", \"regions\"}.",
                           {"shared_with": "Not an object."})
    everyone = raw.get("everyone", False)
    if not isinstance(everyone, bool):
        raise InvalidInput("shared_with.everyone is true or false.", {"shared_with": "everyone: not a boolean."})
    return Audience(everyone, parse_names(raw.get("teams"), "teams"), parse_names(raw.get("regions"), "regions"))


def parse_collection(data: Mapping[str, object]) -> CollectionInput:
    """The API's body: {"title", "description", "asset_ids", "shared_with"}; title required."""
    return CollectionInput(parse_title(data.get("title")), parse_description(data.get("description")),
                           parse_asset_ids(data.get("asset_ids")), parse_audience(data.get("shared_with")))


# --- who sees what ---------------------------------------------------------------

def kept_for_reps_clause():
    """Assets a rep still sees in what they kept: published ones, and retired ones
    (shown as retired). Drafts and items awaiting review stay out of sight."""
    return Asset.status.in_((AssetStatus.PUBLISHED.value, AssetStatus.RETIRED.value))


def shared_with_clause(user: User):
    """Collections shared with this user: with everyone, their team or their region."""
    conditions = [Collection.shared_with_everyone.is_(True)]
    for scope, value in ((TEAM, user.team), (REGION, user.region)):
        if value:
            conditions.append(Collection.shares.any(and_(CollectionShare.scope == scope,
                                                         CollectionShare.value == value)))
    return or_(*conditions)


def audience_of(collection: Collection) -> Audience:
    return Audience(collection.shared_with_everyone,
                    sorted(s.value for s in collection.shares if s.scope == TEAM),
                    sorted(s.value for s in collection.shares if s.scope == REGION))


def is_kit(collection: Collection) -> bool:
    return audience_of(collection).is_shared


def can_edit(user: User, collection: Collection) -> bool:
    return collection.owner_id == user.id or user.is_admin


def _visible(user: User):
    return or_(Collection.owner_id == user.id, shared_with_clause(user))


def get_collection_for(user: User, collection_id: int) -> Collection:
    """The collection if this user may see it (own, shared with them; admins: any); else 404."""
    collection = db.session.get(Collection, collection_id)
    if collection is None:
        raise NotFound()
    if collection.owner_id != user.id and not user.is_admin and db.session.scalar(
            select(Collection.id).where(Collection.id == collection.id, shared_with_clause(user))) is None:
        raise NotFound()
    return collection


def get_editable_for(user: User, collection_id: int) -> Collection:
    """The collection if this user may change it; 403 for a kit they only receive."""
    collection = get_collection_for(user, collection_id)
    if not can_edit(user, collection):
        raise Forbidden("This kit is shared with you; only the person who curates it can change it.")
    return collection


def list_collections(user: User, page: int = 1, per_page: int = 100) -> Listing:
    """The user's own collections, then the kits shared with them; each most recently changed first."""
    query = select(Collection).where(_visible(user))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    mine_first = case((Collection.owner_id == user.id, 0), else_=1)
    items = list(db.session.scalars(query.order_by(mine_first, Collection.updated_at.desc(), Collection.id.desc())
                                    .offset((page - 1) * per_page).limit(per_page)))
    return Listing(items, total, page, per_page)


def own_collections(user: User, limit: int = MAX_COLLECTIONS) -> list[Collection]:
    return list(db.session.scalars(select(Collection).where(Collection.owner_id == user.id)
                                   .order_by(Collection.updated_at.desc(), Collection.id.desc()).limit(limit)))


def kits_for(user: User, limit: int = 20) -> list[Collection]:
    """Kits others shared with this user (everyone, their team, their region), newest change first."""
    return list(db.session.scalars(
        select(Collection).where(Collection.owner_id != user.id, shared_with_clause(user))
        .order_by(Collection.updated_at.desc(), Collection.id.desc()).limit(limit)))


def editable_collections(user: User) -> list[tuple[int, str]]:
    """(id, title) of the collections this user may add to: what "Add to collection" offers."""
    return [tuple(row) for row in db.session.execute(
        select(Collection.id, Collection.title).where(Collection.owner_id == user.id)
        .order_by(Collection.updated_at.desc(), Collection.id.desc()).limit(MAX_COLLECTIONS))]


def item_counts(collection_ids: Iterable[int]) -> dict[int, int]:
    ids = list(collection_ids)
    if not ids:
        return {}
    return dict(db.session.execute(
        select(CollectionItem.collection_id, func.count()).where(CollectionItem.collection_id.in_(ids))
        .group_by(CollectionItem.collection_id)).all())


def audiences() -> dict[str, list[str]]:
    """The teams and regions users belong to: what the sharing form offers."""
    def distinct(column) -> list[str]:
        return list(db.session.scalars(select(column).distinct().where(column.is_not(None), column != "")
                                       .order_by(column).limit(500)))

    return {"teams": distinct(User.team), "regions": distinct(User.region)}


# --- changes -----------------------------------------------------------------------

def check_may_share(user: User, audience: Audience | None) -> None:
    if audience is not None and audience.is_shared and not user.is_staff:
        raise Forbidden("Only marketers, enablement leads and admins share collections with teams, regions or "
                        "everyone; your collections are yours alone.")


def _assets_for(user: User, asset_ids: list[int], already: Iterable[int] = ()) -> list[Asset]:
    """The assets, in order, if each may go into a collection; 422 naming those that may not.
    Items already in the collection stay even if since retired or expired."""
    if not asset_ids:
        return []
    found = {a.id: a for a in db.session.scalars(select(Asset).where(Asset.id.in_(asset_ids)))}
    kept = set(already)
    refused = [i for i in asset_ids if i not in found
               or (i not in kept and not user.is_staff and found[i].is_hidden_from_reps())]
    if refused:
        raise InvalidInput("No such items (or no longer available): " + ", ".join(map(str, refused)) + ".",
                           {"asset_ids": "Unknown items."})
    return [found[i] for i in asset_ids]


def _set_items(collection: Collection, assets: list[Asset]) -> None:
    added = {item.asset_id: item.added_at for item in collection.items}
    collection.items.clear()
    db.session.flush()
    now = utcnow()
    collection.items.extend(CollectionItem(asset_id=a.id, position=n, added_at=added.get(a.id, now))
                            for n, a in enumerate(assets, start=1))


def _set_audience(collection: Collection, audience: Audience) -> None:
    collection.shared_with_everyone = audience.everyone
    collection.shares.clear()
    db.session.flush()
    collection.shares.extend([*(CollectionShare(scope=TEAM, value=v) for v in audience.teams),
                              *(CollectionShare(scope=REGION, value=v) for v in audience.regions)])


def create_collection(user: User, data: CollectionInput) -> Collection:
    check_may_share(user, data.audience)
    count = db.session.scalar(select(func.count()).select_from(Collection).where(Collection.owner_id == user.id))
    if (count or 0) >= MAX_COLLECTIONS:
        raise InvalidInput(f"You have {MAX_COLLECTIONS} collections, the most one person may keep; "
                           "delete one you no longer use first.", {"title": "Too many collections."})
    assets = _assets_for(user, data.asset_ids or [])
    now = utcnow()
    collection = Collection(owner_id=user.id, title=data.title, description=data.description,
                            created_at=now, updated_at=now)
    db.session.add(collection)
    _set_audience(collection, data.audience or Audience())
    _set_items(collection, assets)
    db.session.commit()
    return collection


def update_collection(user: User, collection: Collection, data: CollectionInput) -> Collection:
    check_may_share(user, data.audience)
    if data.asset_ids is not None:
        _set_items(collection, _assets_for(user, data.asset_ids, [i.asset_id for i in collection.items]))
    if data.audience is not None:
        _set_audience(collection, data.audience)
    collection.title, collection.description = data.title, data.description
    collection.updated_at = utcnow()
    db.session.commit()
    return collection


def delete_collection(collection: Collection) -> None:
    db.session.delete(collection)
    db.session.commit()


def add_item(user: User, collection: Collection, asset_id: int) -> bool:
    """Add an asset at the end; False when it is there already. 404 for an asset the
    user may not see; 422 when the collection is full."""
    asset = get_asset_for(user, asset_id)
    if any(item.asset_id == asset.id for item in collection.items):
        return False
    if len(collection.items) >= MAX_ITEMS:
        raise InvalidInput(f"“{collection.title}” holds {MAX_ITEMS} items, the most a collection may hold; "
                           "remove some or start another collection.", {"asset_id": "The collection is full."})
    collection.items.append(CollectionItem(asset_id=asset.id, position=len(collection.items) + 1,
                                           added_at=utcnow()))
    collection.updated_at = utcnow()
    db.session.commit()
    return True


def remove_item(collection: Collection, asset_id: int) -> None:
    """Take an item out (404 when it is not in the collection); the rest close up."""
    remaining = [item.asset for item in collection.items if item.asset_id != asset_id]
    if len(remaining) == len(collection.items):
        raise NotFound()
    _set_items(collection, remaining)
    collection.updated_at = utcnow()
    db.session.commit()


def move_item(collection: Collection, asset_id: int, offset: int) -> None:
    """Move an item up (-1) or down (+1) one place (404 when it is not in the collection)."""
    assets = [item.asset for item in collection.items]
    index = next((n for n, a in enumerate(assets) if a.id == asset_id), None)
    if index is None:
        raise NotFound()
    target = index + offset
    if 0 <= target < len(assets):
        assets[index], assets[target] = assets[target], assets[index]
        _set_items(collection, assets)
        collection.updated_at = utcnow()
        db.session.commit()


# --- items as people see them ------------------------------------------------------

@dataclass
class ItemState:
    asset: Asset
    available: bool  # reps can open it
    label: str | None = None  # "Retired" or "Expired" when not available
    newer: Asset | None = None  # the item that superseded it, when one did


def _title_key(title: str) -> str:
    return re.sub(r"\s+", " ", title).strip().casefold()


def newer_items(assets: Iterable[Asset]) -> dict[int, Asset]:
    """For retired or expired assets: the newest available item with the same title,
    created later (what the retirement list calls "superseded")."""
    old = [a for a in assets if a.is_hidden_from_reps()]
    if not old:
        return {}
    keys = {_title_key(a.title) for a in old}
    # Narrowed in SQL without spaces and case (SQLite lowers ASCII only), then matched exactly.
    squeezed = sorted({re.sub(r"\s+", "", a.title).lower() for a in old})
    same_title = or_(func.lower(func.replace(Asset.title, " ", "")).in_(squeezed),
                     Asset.title.in_(sorted({a.title for a in old})))
    candidates = list(db.session.scalars(
        select(Asset).where(same_title, ~hidden_from_reps_clause())
        .order_by(Asset.created_at.desc(), Asset.id.desc()).limit(200)))
    newest: dict[str, Asset] = {}
    for candidate in candidates:
        key = _title_key(candidate.title)
        if key in keys:
            newest.setdefault(key, candidate)
    found = {}
    for asset in old:
        candidate = newest.get(_title_key(asset.title))
        if candidate is not None and candidate.id != asset.id and (candidate.created_at, candidate.id) > (
                asset.created_at, asset.id):
            found[asset.id] = candidate
    return found


def item_states(user: User, assets: list[Asset]) -> list[ItemState]:
    """Kept assets as this user sees them: retired and expired ones marked, with the newer
    item when there is one; for reps, items hidden for another reason are left out."""
    newer = newer_items(assets)
    states = []
    for asset in assets:
        if not asset.is_hidden_from_reps():
            states.append(ItemState(asset, True))
        elif asset.status == AssetStatus.RETIRED:
            states.append(ItemState(asset, False, "Retired", newer.get(asset.id)))
        elif asset.status == AssetStatus.PUBLISHED:  # published but past its expiry date
            states.append(ItemState(asset, False, "Expired", newer.get(asset.id)))
        elif user.is_staff:
            states.append(ItemState(asset, False, asset.status.replace("_", " ").capitalize()))
    return states
