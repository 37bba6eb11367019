"""Search gaps: what reps searched for and did not find, and searches whose results nobody opened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from portal.analytics.ranges import DateRange
from portal.extensions import db
from portal.models import (
    SearchLog,
    UsageEvent,
)


@dataclass
class SearchGap:
    query: str
    searches: int
    last_searched_at: datetime


def search_gaps(window: DateRange, limit: int = 500) -> list[SearchGap]:
    """Queries that found nothing, most frequent first."""
    rows = db.session.execute(
        select(SearchLog.normalized_query, func.count(), func.max(SearchLog.created_at))
        .where(SearchLog.result_count == 0, SearchLog.normalized_query != "",
               SearchLog.created_at >= window.start, SearchLog.created_at < window.end)
        .group_by(SearchLog.normalized_query)
        .order_by(func.count().desc(), func.max(SearchLog.created_at).desc(), SearchLog.normalized_query)
        .limit(limit)
    )
    return [SearchGap(query, searches, last) for query, searches, last in rows]


def unclicked_searches(window: DateRange, limit: int = 500) -> list[SearchGap]:
    """Queries that found something, yet no result was ever opened from them."""
    # One index probe per search (usage_events.search_log_id), never a join over all events.
    clicked = case((select(UsageEvent.id).where(UsageEvent.search_log_id == SearchLog.id).exists(), 1), else_=0)
    rows = db.session.execute(
        select(SearchLog.normalized_query, func.count(), func.max(SearchLog.created_at))
        .where(SearchLog.result_count > 0, SearchLog.normalized_query != "",
               SearchLog.created_at >= window.start, SearchLog.created_at < window.end)
        .group_by(SearchLog.normalized_query)
        .having(func.max(clicked) == 0)
        .order_by(func.count().desc(), func.max(SearchLog.created_at).desc(), SearchLog.normalized_query)
        .limit(limit)
    )
    return [SearchGap(query, searches, last) for query, searches, last in rows]
