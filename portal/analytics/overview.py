"""The overview dashboard: totals, active reps, the share of the library used, series over time."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, and_, cast, false, func, or_, select, union

from portal.analytics.live import consistent
from portal.analytics.ranges import DateRange, in_range, in_spans, weekly_and_daily
from portal.analytics.usage import KINDS, recent_uses
from portal.extensions import db
from portal.models import (
    Asset,
    DailyActivity,
    DailyKindUsage,
    DailyUsage,
    User,
    WeeklyActivity,
    WeeklyAssetUsage,
)


@dataclass
class Overview:
    window: DateRange
    totals: dict[str, int]
    active_reps: int
    active_users: int
    library_size: int
    assets_used: int
    labels: list[str]
    series: dict[str, list[int]]  # per kind, plus "active_reps"

    @property
    def used_share(self) -> float:
        """Percent of the library used at least once in the range."""
        return round(100 * self.assets_used / self.library_size, 1) if self.library_size else 0.0


def library_in(window: DateRange):
    """Assets that were in the library at some point in the range: created
    before it ended, not retired before it started."""
    return and_(Asset.created_at < window.end, or_(Asset.retired_at.is_(None), Asset.retired_at >= window.start))


def _week_start(column):
    """The Monday of the week of a date column, in SQL."""
    if db.engine.dialect.name == "postgresql":
        return cast(func.date_trunc("week", column), Date)
    return func.date(column, "weekday 0", "-6 days")  # SQLite: next Sunday (or today), back to Monday


def as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


@consistent
def overview(window: DateRange, *, mark: datetime) -> Overview:
    totals = dict.fromkeys(KINDS, 0)
    buckets = window.buckets()
    index = {bucket: n for n, bucket in enumerate(buckets)}
    series = {kind: [0] * len(buckets) for kind in (*KINDS, "active_reps")}
    recent = recent_uses(window, mark)
    rolled = db.session.execute(select(DailyKindUsage.day, DailyKindUsage.kind, DailyKindUsage.events)
                                .where(in_range(DailyKindUsage.day, window))).all()
    raw = db.session.execute(select(recent.c.day, recent.c.kind, func.count())
                             .group_by(recent.c.day, recent.c.kind)).all()
    for day, kind, events in rolled + raw:
        if kind in totals:
            totals[kind] += events
            series[kind][index[window.bucket_of(as_date(day))]] += events
    # Distinct reps per point: per week that is not the sum of the daily counts.
    for bucket, count in _active_reps_per_point(window, recent).items():
        series["active_reps"][index[bucket]] = count
    weekly_users, daily_users = weekly_and_daily(window, WeeklyActivity, DailyActivity, "user_id", "role")
    recent_users = select(recent.c.user_id, User.role).join(User, User.id == recent.c.user_id)
    users = union(weekly_users, daily_users, recent_users).subquery()  # distinct (user, role) pairs
    active_by_role = dict(db.session.execute(select(users.c.role, func.count()).group_by(users.c.role)).all())
    in_library = library_in(window)
    library_size = db.session.scalar(select(func.count()).select_from(Asset).where(in_library)) or 0
    # One probe per asset of the library into the (asset, week) and (asset, day) indexes, which stops at the
    # first use: cheaper than collecting the distinct assets of hundreds of thousands of rollup rows.
    weeks, loose = window.split()
    used_in_weeks = select(WeeklyAssetUsage.asset_id).where(
        WeeklyAssetUsage.asset_id == Asset.id, WeeklyAssetUsage.week >= weeks[0], WeeklyAssetUsage.week <= weeks[1],
    ).exists() if weeks else false()
    used_on_days = select(DailyUsage.asset_id).where(
        DailyUsage.asset_id == Asset.id, in_spans(DailyUsage.day, loose)).exists() if loose else false()
    used_recently = Asset.id.in_(select(recent.c.asset_id))
    assets_used = db.session.scalar(
        select(func.count()).select_from(Asset).where(in_library, or_(used_in_weeks, used_on_days, used_recently))) or 0
    return Overview(
        window=window, totals=totals, active_reps=active_by_role.get("rep", 0),
        active_users=sum(active_by_role.values()), library_size=library_size, assets_used=assets_used,
        labels=[bucket.isoformat() for bucket in buckets], series=series,
    )


def _rep_activity(window: DateRange) -> list[tuple]:
    """Where the rollups keep the active reps of each point, as (point, user
    column, conditions): per day, or per week, whole weeks from the weekly
    rollup and the partial weeks at the ends from the daily one."""
    reps = DailyActivity.role == "rep"
    if not window.weekly:
        return [(DailyActivity.day, DailyActivity.user_id, [in_range(DailyActivity.day, window), reps])]
    weeks, loose = window.split()
    sources = []
    if weeks:
        sources.append((WeeklyActivity.week, WeeklyActivity.user_id,
                        [WeeklyActivity.week >= weeks[0], WeeklyActivity.week <= weeks[1], WeeklyActivity.role == "rep"]))
    if loose:
        sources.append((_week_start(DailyActivity.day), DailyActivity.user_id, [in_spans(DailyActivity.day, loose), reps]))
    return sources


def _active_reps_per_point(window: DateRange, recent) -> dict[date, int]:
    """Distinct active reps per point: counted in the rollups, plus the reps
    among the raw uses since the watermark who are not already counted there
    for that point (looked up for those few points and reps only)."""
    sources = _rep_activity(window)
    counts: dict[date, int] = defaultdict(int)
    for point, user_id, conditions in sources:
        for bucket, reps in db.session.execute(
                select(point, func.count(user_id.distinct())).where(*conditions).group_by(point)):
            counts[as_date(bucket)] += reps
    recent_point = _week_start(recent.c.day) if window.weekly else recent.c.day
    fresh = {(as_date(bucket), user) for bucket, user in db.session.execute(
        select(recent_point, recent.c.user_id).join(User, User.id == recent.c.user_id)
        .where(User.role == "rep").distinct())}
    if fresh:
        points, users = {bucket for bucket, _ in fresh}, {user for _, user in fresh}
        for point, user_id, conditions in sources:
            fresh -= {(as_date(bucket), user) for bucket, user in db.session.execute(
                select(point, user_id).where(*conditions, point.in_(points), user_id.in_(users)))}
        for bucket, _ in fresh:
            counts[bucket] += 1
    return counts
