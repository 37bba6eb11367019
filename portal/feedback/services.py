"""Use cases of feedback from the field: ratings, reported uses, flags, the
review queue, "My activity", "My collateral" and notifications.

Plain arguments in (a User, ids, values); no request or session. Every change
commits, then asks the queue to re-index the asset (ratings and uses feed the
search ranking; the index holds only committed data).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Forbidden, NotFound

from portal.errors import Conflict, InvalidInput
from portal.extensions import db
from portal.library.services import get_asset_for
from portal.library.stats import AssetStats, stats_for
from portal.models import (
    Asset,
    Flag,
    Rating,
    ReportedUse,
    User,
    utcnow,
)
from portal.notifications.services import notify
from portal.pagination import Listing

COMMENT_MAX = 5_000
NOTE_MAX = 5_000
NAME_MAX = 200  # account and opportunity columns
DEFAULT_THRESHOLD = 2
MERGE_LIMIT = 5_000  # rows of each kind the merged queue reads at most

USE_KINDS = ("presented", "emailed", "shared", "printed", "other")
USE_KIND_LABELS = {"presented": "Presented", "emailed": "Emailed", "shared": "Shared", "printed": "Printed",
                   "other": "Other"}
OUTCOMES = ("open", "won", "lost")
FLAG_KINDS = ("outdated", "wrong", "off_brand")
FLAG_KIND_LABELS = {"outdated": "Outdated", "wrong": "Wrong", "off_brand": "Off-brand"}
REVIEW_STATUSES = ("open", "resolved")
USE_FIELDS = ("kind", "account", "opportunity", "outcome", "note", "occurred_on")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- input parsing ------------------------------------------------------------

def _text(data: Mapping[str, Any], name: str, limit: int, errors: dict[str, str]) -> str:
    raw = data.get(name)
    if raw is None:
        return ""
    if not isinstance(raw, str):
        errors[name] = "Must be text."
        return ""
    text = raw.replace("\r\n", "\n").strip()
    if len(text) > limit:
        errors[name] = f"At most {limit:,} characters (this has {len(text):,})."
    return text


def parse_stars(raw: Any) -> int:
    """1 to 5 as a whole number (JSON number or form text); anything else is refused."""
    message = "Choose from 1 to 5 stars."
    if isinstance(raw, bool) or raw is None:
        raise InvalidInput("Stars are required: a whole number from 1 to 5.", {"stars": message})
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if not isinstance(raw, int) or not 1 <= raw <= 5:
        raise InvalidInput("Stars must be a whole number from 1 to 5.", {"stars": message})
    return raw


def parse_rating(data: Mapping[str, Any]) -> tuple[int, str]:
    errors: dict[str, str] = {}
    comment = _text(data, "comment", COMMENT_MAX, errors)
    try:
        stars = parse_stars(data.get("stars"))
    except InvalidInput as error:
        errors.update(error.fields)
        stars = 0
    if errors:
        raise InvalidInput("The rating needs attention.", errors)
    return stars, comment


def _parse_date(raw: Any, errors: dict[str, str], today: date) -> date | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return today
    if not isinstance(raw, str) or not ISO_DATE.match(raw.strip()):
        errors["occurred_on"] = "Use a date like 2026-03-31."
        return None
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        errors["occurred_on"] = "That date does not exist."
        return None
    if value > today:
        errors["occurred_on"] = "The date cannot be in the future."
        return None
    return value


def parse_use(data: Mapping[str, Any], *, partial: bool = False, today: date | None = None) -> dict[str, Any]:
    """Validate a reported use from a form or JSON body.

    partial=True (edits) keeps only the fields that were sent and refuses an
    empty change; otherwise `kind` is required and the date defaults to today.
    """
    today = today or date.today()
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    sent = [name for name in USE_FIELDS if name in data]
    if partial and not sent:
        raise InvalidInput(f"Nothing to change: send one or more of {', '.join(USE_FIELDS)}.", status=422)
    if "kind" in data or not partial:
        kind = data.get("kind")
        if kind not in USE_KINDS:
            errors["kind"] = f"Choose one of: {', '.join(USE_KINDS)}."
        values["kind"] = kind
    if "outcome" in data or not partial:
        outcome = data.get("outcome")
        if outcome in (None, ""):
            values["outcome"] = None
        elif outcome in OUTCOMES:
            values["outcome"] = outcome
        else:
            errors["outcome"] = f"Choose one of: {', '.join(OUTCOMES)}, or leave it empty."
    for name, limit in (("account", NAME_MAX), ("opportunity", NAME_MAX), ("note", NOTE_MAX)):
        if name in data or not partial:
            values[name] = _text(data, name, limit, errors)
    if "occurred_on" in data or not partial:
        values["occurred_on"] = _parse_date(data.get("occurred_on"), errors, today)
    if errors:
        raise InvalidInput("The reported use needs attention.", errors)
    return values


def parse_flag(data: Mapping[str, Any]) -> tuple[str, str]:
    errors: dict[str, str] = {}
    kind = data.get("reason_kind")
    if kind not in FLAG_KINDS:
        errors["reason_kind"] = f"Choose one of: {', '.join(FLAG_KINDS)}."
    reason = _text(data, "reason", NOTE_MAX, errors)
    if not reason and "reason" not in errors:
        errors["reason"] = "Say what is wrong, so the owner can fix it."
    if errors:
        raise InvalidInput("The flag needs attention.", errors)
    return kind, reason


def parse_note(data: Mapping[str, Any]) -> str:
    errors: dict[str, str] = {}
    note = _text(data, "note", NOTE_MAX, errors)
    if errors:
        raise InvalidInput("The note needs attention.", errors)
    return note


# --- ratings --------------------------------------------------------------------

def _reopen(item: Rating | Flag) -> None:
    item.review_status = "open"
    item.resolved_by_id = None
    item.resolved_at = None
    item.resolution_note = None


def rate_asset(user: User, asset_id: int, stars: int, comment: str) -> tuple[Rating, bool]:
    """Set this user's rating of an asset (one per user and asset): create it or
    replace it. A change of stars or comment puts it back in the review queue.
    Returns (rating, created)."""
    asset = get_asset_for(user, asset_id)
    for attempt in range(2):
        rating = db.session.execute(
            select(Rating).where(Rating.asset_id == asset.id, Rating.user_id == user.id)
        ).scalar_one_or_none()
        created = rating is None
        if created:
            rating = Rating(asset_id=asset.id, user_id=user.id, stars=stars, comment=comment, review_status="open")
            db.session.add(rating)
        elif (rating.stars, rating.comment) != (stars, comment):
            rating.stars, rating.comment = stars, comment
            rating.updated_at = utcnow()
            _reopen(rating)
        try:
            db.session.commit()
        except IntegrityError:
            # Another request created this user's rating at the same moment: replace that one.
            db.session.rollback()
            if attempt:
                raise
            continue
        break
    return rating, created


@dataclass
class RatingSummary:
    average: float | None
    count: int
    distribution: dict[int, int]

    def share(self, stars: int) -> int:
        """Percentage of ratings with this many stars (for the bars)."""
        return round(100 * self.distribution[stars] / self.count) if self.count else 0


def rating_summary(asset_id: int) -> RatingSummary:
    distribution = dict.fromkeys(range(1, 6), 0)
    for stars, count in db.session.execute(
        select(Rating.stars, func.count()).where(Rating.asset_id == asset_id).group_by(Rating.stars)
    ):
        distribution[stars] = count
    total = sum(distribution.values())
    average = round(sum(s * c for s, c in distribution.items()) / total, 2) if total else None
    return RatingSummary(average, total, distribution)


def recent_comments(asset_id: int, limit: int = 5) -> list[Rating]:
    return list(db.session.scalars(
        select(Rating).where(Rating.asset_id == asset_id, Rating.comment != "")
        .order_by(Rating.updated_at.desc(), Rating.id.desc()).limit(limit)
    ))


def rating_of(user: User, asset_id: int) -> Rating | None:
    return db.session.execute(
        select(Rating).where(Rating.asset_id == asset_id, Rating.user_id == user.id)
    ).scalar_one_or_none()


def ratings_for(asset_id: int, page: int = 1, per_page: int = 20) -> Listing:
    query = select(Rating).where(Rating.asset_id == asset_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(db.session.scalars(
        query.order_by(Rating.updated_at.desc(), Rating.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ))
    return Listing(items, total, page, per_page)


# --- reported uses --------------------------------------------------------------

def report_use(user: User, asset_id: int, values: Mapping[str, Any]) -> ReportedUse:
    asset = get_asset_for(user, asset_id)
    use = ReportedUse(asset_id=asset.id, user_id=user.id, **values)
    db.session.add(use)
    db.session.commit()
    return use


def get_use(user: User, use_id: int, *, hide_others: bool = False) -> ReportedUse:
    """The user's own report; 404 if unknown. Someone else's: 403, or 404 when
    `hide_others` (pages under "My activity" only ever show one's own)."""
    use = db.session.get(ReportedUse, use_id)
    if use is None:
        raise NotFound()
    if use.user_id != user.id:
        if hide_others:
            raise NotFound()
        raise Forbidden("Only the rep who reported this use can change it.")
    return use


def update_use(user: User, use_id: int, values: Mapping[str, Any], *, hide_others: bool = False) -> ReportedUse:
    use = get_use(user, use_id, hide_others=hide_others)
    changed = False
    for name, value in values.items():
        if getattr(use, name) != value:
            setattr(use, name, value)
            changed = True
    if changed:
        use.updated_at = utcnow()
    db.session.commit()
    return use


def uses_of(user: User, page: int = 1, per_page: int = 20) -> Listing:
    query = select(ReportedUse).where(ReportedUse.user_id == user.id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(db.session.scalars(
        query.order_by(ReportedUse.occurred_on.desc(), ReportedUse.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    ))
    return Listing(items, total, page, per_page)


def ratings_by(user: User, limit: int = 100) -> list[Rating]:
    return list(db.session.scalars(
        select(Rating).where(Rating.user_id == user.id).order_by(Rating.updated_at.desc(), Rating.id.desc())
        .limit(limit)
    ))


# --- flags ----------------------------------------------------------------------

def flag_asset(user: User, asset_id: int, reason_kind: str, reason: str) -> Flag:
    """Flag an asset; its owner is notified and the flag enters the review queue."""
    asset = get_asset_for(user, asset_id)
    flag = Flag(asset_id=asset.id, user_id=user.id, reason_kind=reason_kind, reason=reason, review_status="open")
    db.session.add(flag)
    if asset.owner_id != user.id:
        label = FLAG_KIND_LABELS[reason_kind].lower()
        notify(asset.owner_id, f"{user.display_name} flagged “{asset.title}” as {label}: {reason}",
               link=f"/assets/{asset.id}")
    db.session.commit()
    return flag


# --- the review queue -----------------------------------------------------------

@dataclass
class ReviewFilters:
    max_stars: int = DEFAULT_THRESHOLD
    include_comments: bool = True  # also ratings above the threshold that carry a comment
    status: str = "open"
    product: str = ""
    team: str = ""
    region: str = ""
    kind: str = "all"  # all | ratings | flags (the page's choice)

    def as_args(self) -> dict[str, str]:
        args = {"max_stars": str(self.max_stars), "comments": "include" if self.include_comments else "exclude",
                "status": self.status, "product": self.product, "team": self.team, "region": self.region,
                "kind": self.kind}
        return {k: v for k, v in args.items() if v}


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
    status = str(args.get("status") or "open").strip()
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


def _count(query: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def review_ratings(filters: ReviewFilters, page: int = 1, per_page: int = 20) -> Listing:
    query = _rating_queue(filters)
    items = list(db.session.scalars(
        query.order_by(Rating.updated_at.desc(), Rating.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ))
    return Listing(items, _count(query), page, per_page)


def review_flags(filters: ReviewFilters, page: int = 1, per_page: int = 20) -> Listing:
    query = _flag_queue(filters)
    items = list(db.session.scalars(
        query.order_by(Flag.created_at.desc(), Flag.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ))
    return Listing(items, _count(query), page, per_page)


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
    return _count(_rating_queue(filters)) + _count(_flag_queue(filters))


def review_choices() -> dict[str, list[str]]:
    """Values for the queue's product, team and region menus."""
    def distinct(column) -> list[str]:
        return [v for v in db.session.scalars(select(column).distinct().where(column.is_not(None)).order_by(column))
                if v]

    return {"product": distinct(Asset.product), "region": distinct(Asset.region), "team": distinct(User.team)}


def _resolve(item: Rating | Flag, user: User, note: str) -> None:
    if item.review_status == "resolved":
        raise Conflict("This item is already resolved.")
    item.review_status = "resolved"
    item.resolved_by_id = user.id
    item.resolved_at = utcnow()
    item.resolution_note = note
    db.session.commit()


def resolve_rating(user: User, rating_id: int, note: str) -> Rating:
    rating = db.session.get(Rating, rating_id)
    if rating is None:
        raise NotFound()
    _resolve(rating, user, note)
    return rating


def resolve_flag(user: User, flag_id: int, note: str) -> Flag:
    flag = db.session.get(Flag, flag_id)
    if flag is None:
        raise NotFound()
    _resolve(flag, user, note)
    return flag


# --- "My collateral" --------------------------------------------------------------

@dataclass
class OwnedAsset:
    asset: Asset
    stats: AssetStats
    open_flags: list[Flag]
    comments: list[Rating]
    outcomes: dict[str, int]
    low_open: int


def my_feedback_count(user: User) -> int:
    """Open flags and open low ratings on the user's own assets."""
    flags = select(Flag).join(Asset, Flag.asset_id == Asset.id).where(
        Asset.owner_id == user.id, Flag.review_status == "open")
    low = select(Rating).join(Asset, Rating.asset_id == Asset.id).where(
        Asset.owner_id == user.id, Rating.review_status == "open", Rating.stars <= DEFAULT_THRESHOLD)
    return _count(flags) + _count(low)


def owned_assets(user: User, page: int = 1, per_page: int = 25, comments_each: int = 3) -> Listing:
    query = select(Asset).where(Asset.owner_id == user.id)
    total = _count(query)
    assets = list(db.session.scalars(
        query.order_by(Asset.updated_at.desc(), Asset.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ))
    ids = [a.id for a in assets]
    stats = stats_for(ids)
    flags: dict[int, list[Flag]] = {i: [] for i in ids}
    comments: dict[int, list[Rating]] = {i: [] for i in ids}
    outcomes: dict[int, dict[str, int]] = {i: dict.fromkeys(OUTCOMES, 0) for i in ids}
    low_open: dict[int, int] = dict.fromkeys(ids, 0)
    if ids:
        for flag in db.session.scalars(
            select(Flag).where(Flag.asset_id.in_(ids), Flag.review_status == "open").order_by(Flag.created_at.desc())
        ):
            flags[flag.asset_id].append(flag)
        position = func.row_number().over(
            partition_by=Rating.asset_id, order_by=(Rating.updated_at.desc(), Rating.id.desc())
        ).label("position")
        latest = (select(Rating.id, position).where(Rating.asset_id.in_(ids), Rating.comment != "")).subquery()
        for rating in db.session.scalars(
            select(Rating).join(latest, latest.c.id == Rating.id).where(latest.c.position <= comments_each)
            .order_by(Rating.updated_at.desc(), Rating.id.desc())
        ):
            comments[rating.asset_id].append(rating)
        for asset_id, outcome, count in db.session.execute(
            select(ReportedUse.asset_id, ReportedUse.outcome, func.count())
            .where(ReportedUse.asset_id.in_(ids), ReportedUse.outcome.is_not(None))
            .group_by(ReportedUse.asset_id, ReportedUse.outcome)
        ):
            outcomes[asset_id][outcome] = count
        for asset_id, count in db.session.execute(
            select(Rating.asset_id, func.count()).where(
                Rating.asset_id.in_(ids), Rating.review_status == "open", Rating.stars <= DEFAULT_THRESHOLD)
            .group_by(Rating.asset_id)
        ):
            low_open[asset_id] = count
    items = [OwnedAsset(a, stats[a.id], flags[a.id], comments[a.id], outcomes[a.id], low_open[a.id]) for a in assets]
    return Listing(items, total, page, per_page)


def nav_badges(user: User) -> dict[str, int]:
    badges = {}
    if user.is_reviewer:
        badges["reviews"] = open_review_count()
    if user.can_publish:
        badges["my_feedback"] = my_feedback_count(user)
    return badges
