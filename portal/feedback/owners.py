"""\"My collateral\": what the field says about the items a marketer owns."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.extensions import db
from portal.feedback.review_queue import DEFAULT_THRESHOLD
from portal.library.stats import AssetStats, stats_for
from portal.models import (
    OUTCOMES,
    Asset,
    Flag,
    Rating,
    ReportedUse,
    ReviewStatus,
    User,
)
from portal.pagination import Listing, count_rows


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
        Asset.owner_id == user.id, Flag.review_status == ReviewStatus.OPEN)
    low = select(Rating).join(Asset, Rating.asset_id == Asset.id).where(
        Asset.owner_id == user.id, Rating.review_status == ReviewStatus.OPEN, Rating.stars <= DEFAULT_THRESHOLD)
    return count_rows(flags) + count_rows(low)


def owned_assets(user: User, page: int = 1, per_page: int = 25, comments_each: int = 3) -> Listing:
    query = select(Asset).where(Asset.owner_id == user.id)
    total = count_rows(query)
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
            select(Flag).where(Flag.asset_id.in_(ids), Flag.review_status == ReviewStatus.OPEN).order_by(Flag.created_at.desc())
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
                Rating.asset_id.in_(ids), Rating.review_status == ReviewStatus.OPEN, Rating.stars <= DEFAULT_THRESHOLD)
            .group_by(Rating.asset_id)
        ):
            low_open[asset_id] = count
    items = [OwnedAsset(a, stats[a.id], flags[a.id], comments[a.id], outcomes[a.id], low_open[a.id]) for a in assets]
    return Listing(items, total, page, per_page)
