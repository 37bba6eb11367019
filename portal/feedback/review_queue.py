"""The enablement review queue: low-rated or commented ratings and flags, filtered, merged and resolved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from werkzeug.exceptions import NotFound

from portal.errors import Conflict, InvalidInput
from portal.extensions import db
from portal.models import (
    REVIEW_STATUSES,
    Asset,
    Flag,
    Rating,
    ReviewStatus,
    User,
    utcnow,
)
from portal.pagination import Listing, count_rows

DEFAULT_THRESHOLD = 2




MERGE_LIMIT = 5_000  # rows of each kind the merged queue reads at most


@dataclass
class ReviewFilters:
    max_stars: int = DEFAULT_THRESHOLD
    include_comments: bool = True  # also ratings above the threshold that carry a comment
    status: str = ReviewStatus.OPEN.value
    product: str = ""
    team: str = ""
    region: str = ""
    kind: str = "all"  # all | ratings | flags (the page's choice)



def parse_review_filters(args: Mapping[str, Any]) -> ReviewFilters:
    errors: dict[str, str] = {}
    filters = ReviewFilters()
    raw = str(args.get("max_stars") or "").strip()
    if raw:
        if raw.isdigit() and 1 <= int(raw) <= 5:
            filters.max_stars = int(raw)
        else:
            errors["max_stars"] = "Choose a threshold from 1 to 5 stars."
    comments = str(args.get("comments") or "include").strip()
    if comments not in ("include", "exclude"):
        errors["comments"] = "Use include or exclude."
    filters.include_comments = comments == "include"
    status = str(args.get("status") or ReviewStatus.OPEN.value).strip()
    if status not in REVIEW_STATUSES:
        errors["status"] = "Use open or resolved."
    filters.status = status
    kind = str(args.get("kind") or "all").strip()
    if kind not in ("all", "ratings", "flags"):
        errors["kind"] = "Use all, ratings or flags."
    filters.kind = kind
    for name in ("product", "team", "region"):
        setattr(filters, name, str(args.get(name) or "").strip()[:200])
    if errors:
        raise InvalidInput("Some filters need attention.", errors)
    return filters


def _common_filters(query: Select, model: type[Rating] | type[Flag], filters: ReviewFilters) -> Select:
    query = query.join(Asset, model.asset_id == Asset.id).join(User, model.user_id == User.id)
    query = query.where(model.review_status == filters.status)
    if filters.product:
        query = query.where(Asset.product == filters.product)
    if filters.region:
        query = query.where(Asset.region == filters.region)
    if filters.team:
        query = query.where(User.team == filters.team)
    return query


def _rating_queue(filters: ReviewFilters) -> Select:
    low = Rating.stars <= filters.max_stars
    wanted = or_(low, Rating.comment != "") if filters.include_comments else low
    return _common_filters(select(Rating), Rating, filters).where(wanted)


def _flag_queue(filters: ReviewFilters) -> Select:
    return _common_filters(select(Flag), Flag, filters)


def review_ratings(filters: ReviewFilters, page: int = 1, per_page: int = 20) -> Listing:
    query = _rating_queue(filters)
    items = list(db.session.scalars(
        query.order_by(Rating.updated_at.desc(), Rating.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ))
    return Listing(items, count_rows(query), page, per_page)


def review_flags(filters: ReviewFilters, page: int = 1, per_page: int = 20) -> Listing:
    query = _flag_queue(filters)
    items = list(db.session.scalars(
        query.order_by(Flag.created_at.desc(), Flag.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ))
    return Listing(items, count_rows(query), page, per_page)


@dataclass
class ReviewItem:
    kind: str  # rating | flag
    row: Rating | Flag
    at: datetime


def review_queue(filters: ReviewFilters, page: int = 1, per_page: int = 20) -> Listing:
    """Ratings and flags in one list, newest first."""
    # Enough of each kind to fill this page after merging; deep pages are capped
    # (the queue is worked from the top; filters narrow it).
    wanted = min(page * per_page, MERGE_LIMIT)
    ratings = review_ratings(filters, 1, wanted) if filters.kind in ("all", "ratings") else Listing([], 0, 1, 1)
    flags = review_flags(filters, 1, wanted) if filters.kind in ("all", "flags") else Listing([], 0, 1, 1)
    merged = [ReviewItem("rating", r, r.updated_at) for r in ratings.items]
    merged += [ReviewItem("flag", f, f.created_at) for f in flags.items]
    merged.sort(key=lambda item: (item.at, item.row.id), reverse=True)
    start = (page - 1) * per_page
    return Listing(merged[start:start + per_page], ratings.total + flags.total, page, per_page)


def open_review_count() -> int:
    filters = ReviewFilters()
    return count_rows(_rating_queue(filters)) + count_rows(_flag_queue(filters))


def review_choices() -> dict[str, list[str]]:
    """Values for the queue's product, team and region menus."""
    def distinct(column) -> list[str]:
        return [v for v in db.session.scalars(select(column).distinct().where(column.is_not(None)).order_by(column))
                if v]

    return {"product": distinct(Asset.product), "region": distinct(Asset.region), "team": distinct(User.team)}


def resolve(user: User, model: type[Rating] | type[Flag], item_id: int, note: str) -> Rating | Flag:
    """Resolve a rating or a flag of the queue with a note (409 if it already is)."""
    item = db.session.get(model, item_id)
    if item is None:
        raise NotFound()
    if item.review_status == ReviewStatus.RESOLVED:
        raise Conflict("This item is already resolved.")
    item.review_status = ReviewStatus.RESOLVED
    item.resolved_by_id = user.id
    item.resolved_at = utcnow()
    item.resolution_note = note
    db.session.commit()
    return item
