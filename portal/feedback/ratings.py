"""Ratings: one per user and asset (a second replaces the first), summaries and comments.

Ratings feed the search ranking: the commit puts the asset in the index outbox."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.library.services import get_asset_for
from portal.models import (
    Flag,
    Rating,
    ReviewStatus,
    User,
    utcnow,
)
from portal.pagination import Listing


def _reopen(item: Rating | Flag) -> None:
    item.review_status = ReviewStatus.OPEN
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
            rating = Rating(asset_id=asset.id, user_id=user.id, stars=stars, comment=comment, review_status=ReviewStatus.OPEN)
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


def ratings_by(user: User, limit: int = 100) -> list[Rating]:
    return list(db.session.scalars(
        select(Rating).where(Rating.user_id == user.id).order_by(Rating.updated_at.desc(), Rating.id.desc())
        .limit(limit)
    ))
