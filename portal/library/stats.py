"""Ratings and usage counts shown next to assets (library, search, API).

Usage counts are the analytics' all-time totals (portal/analytics/live.py): the
rollups plus the uses recorded since, so they are up to the minute without
counting every raw event of a popular asset."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.analytics.live import usage_totals
from portal.extensions import db
from portal.models import Rating, UsageKind


@dataclass
class AssetStats:
    rating_average: float | None = None
    rating_count: int = 0
    views: int = 0
    downloads: int = 0
    reported: int = 0
    deck_inclusions: int = 0
    search_clicks: int = 0

    @property
    def uses(self) -> int:
        """What colleagues did with it: downloads, reported uses, deck inclusions."""
        return self.downloads + self.reported + self.deck_inclusions


FIELD_FOR_KIND = {
    UsageKind.VIEW.value: "views",
    UsageKind.DOWNLOAD.value: "downloads",
    UsageKind.REPORTED.value: "reported",
    UsageKind.DECK_INCLUSION.value: "deck_inclusions",
    UsageKind.SEARCH_CLICK.value: "search_clicks",
}


def stats_for(asset_ids: list[int]) -> dict[int, AssetStats]:
    stats = {asset_id: AssetStats() for asset_id in asset_ids}
    if not asset_ids:
        return stats
    for asset_id, average, count in db.session.execute(
        select(Rating.asset_id, func.avg(Rating.stars), func.count())
        .where(Rating.asset_id.in_(asset_ids)).group_by(Rating.asset_id)
    ):
        stats[asset_id].rating_average = round(float(average), 2)
        stats[asset_id].rating_count = count
    for asset_id, totals in usage_totals(asset_ids).items():
        for kind, count in totals.per_kind().items():
            setattr(stats[asset_id], FIELD_FOR_KIND[kind], count)
    return stats
