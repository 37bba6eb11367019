"""The asset table: every item's uses, rating and content score; leaderboards and the
rating-against-usage quadrant read it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, select

from portal.analytics.live import usage_totals
from portal.analytics.overview import library_in
from portal.analytics.ranges import DateRange
from portal.analytics.usage import KINDS, usage_counts
from portal.extensions import db
from portal.models import (
    Asset,
    AssetVersion,
    Rating,
    User,
)

SCORE_WEIGHTS = {"recency": 35, "usage": 30, "rating": 25, "freshness": 10}


RECENCY_HALF_LIFE_DAYS = 30  # a use 30 days ago counts half as much as one today


USAGE_FULL_AT = 100  # uses in the range that earn the whole usage part


FRESHNESS_HALF_LIFE_DAYS = 365  # a file a year old earns half the freshness part


NEUTRAL_RATING = 0.5  # unrated items are neither liked nor disliked


LIKED_AT = 3.5  # rating average at or above: liked


def content_score(*, last_used_on: date | None, uses: int, rating_average: float | None,
                  file_age_days: int, today: date) -> int:
    """0-100. Recency of last use (halves every 30 days, 0 if never used),
    uses in the range (log scale, full at 100), rating (1 star 0, 5 stars
    full, unrated half) and the age of the current file (halves every year)."""
    recency = 0.0 if last_used_on is None else 0.5 ** (max(0, (today - last_used_on).days) / RECENCY_HALF_LIFE_DAYS)
    usage = min(1.0, math.log1p(uses) / math.log1p(USAGE_FULL_AT))
    rating = NEUTRAL_RATING if rating_average is None else (rating_average - 1) / 4
    freshness = 0.5 ** (max(0, file_age_days) / FRESHNESS_HALF_LIFE_DAYS)
    parts = {"recency": recency, "usage": usage, "rating": rating, "freshness": freshness}
    return math.floor(sum(SCORE_WEIGHTS[name] * value for name, value in parts.items()) + 0.5)  # half up


@dataclass
class AssetRow:
    asset_id: int
    title: str
    status: str
    content_type: str | None
    product: str | None
    owner_email: str | None
    created_at: datetime
    file_uploaded_at: datetime | None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    rating_average: float | None = None
    rating_count: int = 0
    last_used_on: date | None = None
    total_events: int = 0
    score: int = 0
    buyer_opens: int = 0  # buyers' visits through share links (portal/analytics/buyers.py)

    @property
    def uses(self) -> int:
        """Uses in the range, buyers' opens of shared links included."""
        return sum(self.counts.values()) + self.buyer_opens


QUADRANTS = {
    ("used", "liked"): ("promote", "Used and liked: promote it"),
    ("used", "disliked"): ("fix", "Used but disliked: fix it"),
    ("unused", "liked"): ("promote_better", "Liked but unused: make it easier to find"),
    ("unused", "disliked"): ("retire", "Unused and disliked: retire it"),
}


LEADERBOARD_LABELS = {
    "most_used": "Most used",
    "least_used": "Least used",
    "never_used": "Never used",
    "highest_rated": "Highest rated",
    "lowest_rated": "Lowest rated",
    "low_rated_most_used": "Low rated, yet used the most",
}


@dataclass
class AssetTable:
    window: DateRange
    rows: list[AssetRow]
    used_threshold: int  # uses in the range from which an item counts as "used"
    quadrant_of: dict[int, str]

    def top(self, key, n: int = 10, reverse: bool = True, where=None) -> list[AssetRow]:
        rows = [row for row in self.rows if where is None or where(row)]
        return sorted(rows, key=lambda row: (key(row), row.asset_id if not reverse else -row.asset_id),
                      reverse=reverse)[:n]

    def leaderboards(self, n: int = 10) -> dict[str, list[AssetRow]]:
        rated = lambda row: row.rating_count > 0  # noqa: E731
        return {
            "most_used": self.top(lambda r: r.uses, n, where=lambda r: r.uses > 0),
            "least_used": self.top(lambda r: r.uses, n, reverse=False, where=lambda r: r.status == "published"),
            "never_used": sorted((r for r in self.rows if r.total_events == 0 and r.status == "published"),
                                 key=lambda r: r.created_at)[:n],
            "highest_rated": self.top(lambda r: (r.rating_average, r.rating_count), n, where=rated),
            "lowest_rated": self.top(lambda r: (r.rating_average, -r.rating_count), n, reverse=False, where=rated),
            "low_rated_most_used": self.top(lambda r: r.uses, n,
                                            where=lambda r: rated(r) and r.rating_average < LIKED_AT and r.uses > 0),
        }


def _median(values: list[int]) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _asset_rows(condition) -> dict[int, AssetRow]:
    return {asset_id: AssetRow(asset_id, title, status, content_type, product, email, created_at, uploaded_at)
            for asset_id, title, status, content_type, product, email, created_at, uploaded_at in db.session.execute(
                select(Asset.id, Asset.title, Asset.status, Asset.content_type, Asset.product, User.email,
                       Asset.created_at, AssetVersion.created_at)
                .outerjoin(User, User.id == Asset.owner_id)
                .outerjoin(AssetVersion, AssetVersion.id == Asset.current_version_id)
                .where(condition))}


def _complete_rows(rows: dict[int, AssetRow], counts: dict[int, dict[str, int]], today: date,
                   asset_id: int | None = None) -> None:
    """Uses in the range, rating, last use and score of each row (of one asset
    when asset_id is given, which then limits the reads)."""
    for row_id, per_kind in counts.items():
        row = rows.get(row_id)
        if row is not None:
            row.counts = dict(per_kind)
    one = asset_id is not None
    for row_id, average, count in db.session.execute(
        select(Rating.asset_id, func.avg(Rating.stars), func.count())
        .where(*([Rating.asset_id == asset_id] if one else [])).group_by(Rating.asset_id)
    ):
        if row_id in rows:
            rows[row_id].rating_average, rows[row_id].rating_count = round(float(average), 2), count
    for row_id, totals in usage_totals([asset_id] if one else None).items():
        if row_id in rows:
            rows[row_id].last_used_on, rows[row_id].total_events = totals.last_used_on, totals.events
    for row in rows.values():
        uploaded = (row.file_uploaded_at or row.created_at).date()
        row.score = content_score(last_used_on=row.last_used_on, uses=row.uses, rating_average=row.rating_average,
                                  file_age_days=(today - uploaded).days, today=today)


def _add_buyer_opens(rows: dict[int, AssetRow], window: DateRange, asset_id: int | None = None) -> None:
    from portal.analytics.buyers import buyer_opens

    for row_id, opens in buyer_opens(window, asset_id).items():
        if row_id in rows:
            rows[row_id].buyer_opens = opens


def asset_table(window: DateRange, today: date | None = None, *, include_retired: bool = False) -> AssetTable:
    """One row per asset in the library during the range, with its uses in the
    range, its rating, last use and content score as of the end of the range."""
    today = today or window.until
    condition = library_in(window) if include_retired else and_(library_in(window), Asset.status == "published")
    rows = _asset_rows(condition)
    _add_buyer_opens(rows, window)
    _complete_rows(rows, usage_counts(window), today)
    used_threshold = max(1, math.ceil(_median([row.uses for row in rows.values() if row.uses > 0])))
    quadrant_of = {}
    for row in rows.values():
        if row.rating_count:
            usage = "used" if row.uses >= used_threshold else "unused"
            liking = "liked" if row.rating_average >= LIKED_AT else "disliked"
            quadrant_of[row.asset_id] = QUADRANTS[(usage, liking)][0]
    ordered = sorted(rows.values(), key=lambda row: (-row.score, row.asset_id))
    return AssetTable(window, ordered, used_threshold, quadrant_of)


def asset_row(asset_id: int, window: DateRange, today: date | None = None,
              counts: dict[str, int] | None = None) -> AssetRow | None:
    """The asset table's row of one asset (None if it was not in the library
    during the range), computed for that asset alone."""
    rows = _asset_rows(and_(Asset.id == asset_id, library_in(window)))
    if not rows:
        return None
    per_asset = usage_counts(window, asset_id) if counts is None else {asset_id: counts}
    _add_buyer_opens(rows, window, asset_id)
    _complete_rows(rows, per_asset, today or window.until, asset_id)
    return rows[asset_id]
