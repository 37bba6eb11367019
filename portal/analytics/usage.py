"""Uses per asset and kind over a range: the rollups plus the uses recorded since their
watermark, read raw (portal/analytics/live.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, literal, select

from portal.analytics.live import consistent
from portal.analytics.ranges import DateRange, in_spans
from portal.analytics.rollups import raw_uses
from portal.extensions import db
from portal.models import (
    DailyUsage,
    UsageKind,
    WeeklyAssetUsage,
)

KINDS = ("view", "download", "search_click", "deck_inclusion", "reported")


KIND_LABELS = {"view": "Views", "download": "Downloads", "search_click": "Search click-throughs",
               "deck_inclusion": "Deck inclusions", "reported": "Reported uses"}


# Written into the SQL rather than bound: only then can the plan PostgreSQL keeps
# for a prepared statement (and SQLite's planner) use the partial index
# ix_usage_events_deck_inclusions, whose condition is kind = 'deck_inclusion'.
DECK_INCLUSION_LITERAL = literal(UsageKind.DECK_INCLUSION.value, literal_execute=True)


def recent_uses(window: DateRange, mark: datetime, asset_id: int | None = None):
    """The raw uses in the range recorded since the rollups' watermark."""
    return raw_uses(since=window.since, until=window.until, recorded_from=mark,
                    asset_ids=None if asset_id is None else [asset_id])


@consistent
def usage_counts(window: DateRange, asset_id: int | None = None, *, mark: datetime) -> dict[int, dict[str, int]]:
    """Events per kind in the range of every asset used in it, or of one."""
    weeks, loose = window.split()
    queries = []
    if weeks:
        queries.append(select(WeeklyAssetUsage.asset_id, *_per_kind(WeeklyAssetUsage))
                       .where(WeeklyAssetUsage.week >= weeks[0], WeeklyAssetUsage.week <= weeks[1],
                              *([WeeklyAssetUsage.asset_id == asset_id] if asset_id is not None else []))
                       .group_by(WeeklyAssetUsage.asset_id))
    if loose:
        queries.append(select(DailyUsage.asset_id, *_per_kind(DailyUsage))
                       .where(in_spans(DailyUsage.day, loose),
                              *([DailyUsage.asset_id == asset_id] if asset_id is not None else []))
                       .group_by(DailyUsage.asset_id))
    recent = recent_uses(window, mark, asset_id)
    queries.append(select(recent.c.asset_id, *_per_kind(recent.c)).group_by(recent.c.asset_id))
    counts: dict[int, dict[str, int]] = {}
    for query in queries:
        # One row per asset with a column per kind: a fifth of the rows (and objects) of (asset, kind) pairs.
        for used_id, *events in db.session.execute(query):
            mine = counts.setdefault(used_id, dict.fromkeys(KINDS, 0))
            for kind, n in zip(KINDS, events, strict=True):
                mine[kind] += int(n)
    return counts


def _per_kind(rows):
    """A sum of events per kind, of a rollup table or of raw uses (which have `events` = 1)."""
    return [func.sum(case((rows.kind == kind, rows.events), else_=0)) for kind in KINDS]
