"""The home page: what a person needs today. Recently viewed, favourites, their
collections and the kits shared with them, what is new or updated this month in
their region and products, and recommendations with their reasons.

Every part is a bounded read: a few rows by index (recent_views, favorites,
collections), assets updated in the last NEW_DAYS days through the updated_at
index, and the derived recommendation tables (recommendations.py); never a scan of
usage events. Plain arguments in; no request or session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from portal.collections import recommendations, services
from portal.collections.recently_viewed import recently_viewed_ids
from portal.extensions import db
from portal.library.services import hidden_from_reps_clause
from portal.models import Asset, Collection, Favorite, User, utcnow

SHOWN = 8  # items per section
RECOMMENDED = 6
NEW_DAYS = 30  # "this month"
# Assets with one of these regions (or none) are for every region.
EVERY_REGION = ("", "global", "worldwide", "all regions")
# What tiles and asset JSON read of each asset, loaded with it rather than one query per asset.
TILE_LOADS = (joinedload(Asset.current_version), joinedload(Asset.owner))


@dataclass
class FirstStep:
    text: str
    endpoint: str | None = None
    label: str | None = None


@dataclass
class Home:
    recently_viewed: list[services.ItemState]
    favorites: list[services.ItemState]
    collections: list[Collection]  # own ones
    kits: list[Collection]  # shared with the user
    item_counts: dict[int, int]
    new_and_updated: list[Asset]
    new_since: object
    recommended: list[recommendations.Recommendation]
    first_steps: list[FirstStep] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.recently_viewed or self.favorites or self.collections or self.kits)

    def assets(self) -> list[Asset]:
        return [*(s.asset for s in self.recently_viewed), *(s.asset for s in self.favorites),
                *self.new_and_updated, *(r.asset for r in self.recommended)]


def _in_order(user: User, ids: list[int]) -> list[Asset]:
    if not ids:
        return []
    query = select(Asset).options(*TILE_LOADS).where(Asset.id.in_(ids))
    if not user.is_staff:
        query = query.where(services.kept_for_reps_clause())
    found = {a.id: a for a in db.session.scalars(query)}
    return [found[i] for i in ids if i in found]


def _products(asset_ids: list[int]) -> list[str]:
    """The products of what the user viewed and kept lately: "my products"."""
    if not asset_ids:
        return []
    return list(db.session.scalars(select(Asset.product).distinct()
                                   .where(Asset.id.in_(asset_ids), Asset.product.is_not(None), Asset.product != "")))


def new_and_updated(user: User, products: list[str], limit: int = SHOWN) -> tuple[list[Asset], object]:
    """Items published or changed in the last NEW_DAYS days, for the user's region (or
    every region) and, when they have any, their products; newest first."""
    since = utcnow() - timedelta(days=NEW_DAYS)
    query = select(Asset).options(*TILE_LOADS).where(Asset.updated_at >= since, ~hidden_from_reps_clause())
    if user.region:
        query = query.where(or_(Asset.region.is_(None), Asset.region == user.region,
                                func.lower(Asset.region).in_(EVERY_REGION)))
    if products:
        query = query.where(or_(Asset.product.is_(None), Asset.product.in_(products)))
    return list(db.session.scalars(query.order_by(Asset.updated_at.desc(), Asset.id.desc()).limit(limit))), since


def first_steps(user: User) -> list[FirstStep]:
    """What to do first, by what the user's role lets them do. (Link names differ from the
    navigation's, so that every link on the page has a name of its own.)"""
    steps = [FirstStep("Search for what your next meeting needs: inside every deck and document, down to "
                       "the slide.", "search.search", "Find what you need")]
    if user.can_publish:
        steps.append(FirstStep("Upload your first item; reps find it in search as soon as it is processed.",
                               "library.upload", "Add your first item"))
    if user.is_staff:
        steps.append(FirstStep("Build a kit for a team, a region or everyone (e.g. “Healthcare discovery kit”): "
                               "it appears on their home pages.", "collections.index", "Build a kit"))
    if user.is_reviewer:
        steps.append(FirstStep("See what reps think: work the queue of low ratings and flags.",
                               "feedback.reviews", "Work the review queue"))
    if user.is_admin:
        steps.append(FirstStep("Give people their team and region, so kits and recommendations reach them.",
                               "admin.users", "Set teams and regions"))
    if not user.is_staff:
        steps.append(FirstStep("Star ☆ what you use often, and gather items for a deal in a collection: "
                               "both wait for you here."))
    return steps


def home_for(user: User) -> Home:
    recent_ids = recently_viewed_ids(user, SHOWN)
    favorite_ids = list(db.session.scalars(
        select(Favorite.asset_id).where(Favorite.user_id == user.id)
        .order_by(Favorite.created_at.desc(), Favorite.asset_id.desc()).limit(SHOWN)))
    recent = services.item_states(user, _in_order(user, recent_ids))
    favorites = services.item_states(user, _in_order(user, favorite_ids))
    own = services.own_collections(user, SHOWN)
    kits = services.kits_for(user, SHOWN)
    seeds = list(dict.fromkeys([*recent_ids, *favorite_ids]))
    fresh, since = new_and_updated(user, _products(seeds))
    recommended = recommendations.recommend(user, seeds, set(seeds), RECOMMENDED)
    home = Home(recent, favorites, own, kits, services.item_counts([c.id for c in [*own, *kits]]), fresh, since,
                recommended)
    home.first_steps = first_steps(user)
    return home
