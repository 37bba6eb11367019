"""Ratings and usage counts shown next to assets (library, search, API)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Rating, ReportedUse, UsageEvent, UsageKind


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
    field_for_kind = {
        UsageKind.VIEW.value: "views",
        UsageKind.DOWNLOAD.value: "downloads",
        UsageKind.DECK_INCLUSION.value: "deck_inclusions",
        UsageKind.SEARCH_CLICK.value: "search_clicks",
    }
    for asset_id, kind, count in db.session.execute(
        select(UsageEvent.asset_id, UsageEvent.kind, func.count())
        .where(UsageEvent.asset_id.in_(asset_ids)).group_by(UsageEvent.asset_id, UsageEvent.kind)
    ):
        field = field_for_kind.get(kind)
        if field:
            setattr(stats[asset_id], field, count)
    for asset_id, count in db.session.execute(
        select(ReportedUse.asset_id, func.count()).where(ReportedUse.asset_id.in_(asset_ids))
        .group_by(ReportedUse.asset_id)
    ):
        stats[asset_id].reported = count
    return stats
