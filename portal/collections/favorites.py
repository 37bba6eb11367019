"""Favourites: one click to keep an asset, one to let it go. Plain arguments in."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from werkzeug.exceptions import NotFound

from portal.collections.services import kept_for_reps_clause
from portal.errors import InvalidInput
from portal.extensions import db
from portal.library.services import get_asset_for
from portal.models import Asset, Favorite, User, utcnow
from portal.pagination import Listing

MAX_FAVORITES = 1000


def favorite_ids(user: User) -> set[int]:
    """The ids of every asset the user favourited (at most MAX_FAVORITES)."""
    return set(db.session.scalars(select(Favorite.asset_id).where(Favorite.user_id == user.id)))


def add_favorite(user: User, asset_id: int) -> bool:
    """Favourite an asset the user may see (404 otherwise); True when it was not yet one.
    A user keeps at most MAX_FAVORITES (422 beyond)."""
    asset = get_asset_for(user, asset_id)
    if db.session.get(Favorite, (user.id, asset.id)) is not None:
        return False
    count = db.session.scalar(select(func.count()).select_from(Favorite).where(Favorite.user_id == user.id)) or 0
    if count >= MAX_FAVORITES:
        raise InvalidInput(f"You have {MAX_FAVORITES} favourites, the most one person may keep; "
                           "remove some you no longer need first.", {"asset_id": "Too many favourites."})
    db.session.add(Favorite(user_id=user.id, asset_id=asset.id, created_at=utcnow()))
    db.session.commit()
    return True


def remove_favorite(user: User, asset_id: int) -> bool:
    """Un-favourite (also an item since retired). True when it was one; unknown ids answer 404."""
    if db.session.get(Asset, asset_id) is None:
        raise NotFound()
    removed = db.session.execute(
        delete(Favorite).where(Favorite.user_id == user.id, Favorite.asset_id == asset_id)).rowcount
    db.session.commit()
    return bool(removed)


def list_favorites(user: User, page: int = 1, per_page: int = 100) -> Listing:
    """The user's favourites, newest first. Items since retired or expired stay (shown as
    such, see services.item_state); items reps may no longer see for another reason
    (a draft, say) are left out for reps."""
    query = select(Asset).join(Favorite, Favorite.asset_id == Asset.id).where(Favorite.user_id == user.id)
    if not user.is_staff:
        query = query.where(kept_for_reps_clause())
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(db.session.scalars(
        query.order_by(Favorite.created_at.desc(), Asset.id.desc()).offset((page - 1) * per_page).limit(per_page)))
    return Listing(items, total, page, per_page)
