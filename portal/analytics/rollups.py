"""Rollups of usage: what every dashboard reads instead of raw events.

Raw usage events and reported uses pile up by the million; dashboards read
small derived tables, all rebuilt from the raw rows (the database stays the
source of truth):
  daily_usage          events and distinct users per day, asset, kind, team, region
  daily_activity       one row per user and day they used anything
  daily_kind_usage     events per day and kind (the overview)
  weekly_asset_usage   events per week, asset and kind (long ranges: whole weeks)
  weekly_activity      one row per user, role and week they used anything
  asset_usage_totals   all-time counts and first/last use per asset

Rolling up a day replaces that day's rows (so it can run again at any time),
then recomputes its week from the seven daily rollups of that week (so a day
rolled up again is never counted twice) and the totals of the assets that day
touched. Weeks start on Monday. The queue rolls up today and yesterday every
few minutes; `flask --app portal rollup` rebuilds any range.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Integer, case, delete, func, insert, literal, select, union_all

from portal.extensions import db
from portal.models import (
    AssetUsageTotal,
    DailyActivity,
    DailyKindUsage,
    DailyUsage,
    ReportedUse,
    UsageEvent,
    UsageKind,
    User,
    WeeklyActivity,
    WeeklyAssetUsage,
)

REPORTED = UsageKind.REPORTED.value
# asset_usage_totals column per kind
TOTAL_COLUMNS = {
    UsageKind.VIEW.value: "views",
    UsageKind.DOWNLOAD.value: "downloads",
    UsageKind.SEARCH_CLICK.value: "search_clicks",
    UsageKind.DECK_INCLUSION.value: "deck_inclusions",
    REPORTED: "reported_uses",
}


@dataclass
class RollupReport:
    days: int = 0
    weeks: int = 0
    usage_rows: int = 0
    active_users: int = 0
    assets_touched: int = 0


def week_of(day: date) -> date:
    """The Monday of the week of a day."""
    return day - timedelta(days=day.weekday())


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min)
    return start, start + timedelta(days=1)


def _events_of(day: date):
    """Raw uses on one day as (asset_id, kind, user_id): usage events plus reported uses."""
    start, end = _bounds(day)
    events = (select(UsageEvent.asset_id, UsageEvent.kind, UsageEvent.user_id)
              .where(UsageEvent.occurred_at >= start, UsageEvent.occurred_at < end,
                     UsageEvent.kind != REPORTED))
    reported = (select(ReportedUse.asset_id, literal(REPORTED).label("kind"), ReportedUse.user_id)
                .where(ReportedUse.occurred_on == day))
    return union_all(events, reported).subquery("uses")


def _roll_day(day: date) -> tuple[int, int, set[int]]:
    touched = set(db.session.scalars(select(DailyUsage.asset_id).where(DailyUsage.day == day).distinct()))
    db.session.execute(delete(DailyUsage).where(DailyUsage.day == day))
    db.session.execute(delete(DailyActivity).where(DailyActivity.day == day))
    db.session.execute(delete(DailyKindUsage).where(DailyKindUsage.day == day))

    uses = _events_of(day)
    team, region = func.coalesce(User.team, ""), func.coalesce(User.region, "")
    per_asset = (
        select(literal(day).label("day"), uses.c.asset_id, uses.c.kind, team, region,
               func.count().label("events"), func.count(uses.c.user_id.distinct()).label("users"))
        .select_from(uses).outerjoin(User, User.id == uses.c.user_id)
        .group_by(uses.c.asset_id, uses.c.kind, team, region)
    )
    db.session.execute(insert(DailyUsage).from_select(
        ["day", "asset_id", "kind", "team", "region", "events", "users"], per_asset))

    per_user = (
        select(literal(day).label("day"), uses.c.user_id, User.role, func.count().label("events"))
        .select_from(uses).join(User, User.id == uses.c.user_id)
        .group_by(uses.c.user_id, User.role)
    )
    db.session.execute(insert(DailyActivity).from_select(["day", "user_id", "role", "events"], per_user))

    per_kind = (select(literal(day).label("day"), DailyUsage.kind, func.sum(DailyUsage.events).cast(Integer))
                .where(DailyUsage.day == day).group_by(DailyUsage.kind))
    db.session.execute(insert(DailyKindUsage).from_select(["day", "kind", "events"], per_kind))

    # Counted rather than taken from rowcount, which drivers report differently for INSERT ... SELECT.
    usage_rows = db.session.scalar(select(func.count()).select_from(DailyUsage).where(DailyUsage.day == day))
    active = db.session.scalar(select(func.count()).select_from(DailyActivity).where(DailyActivity.day == day))
    touched.update(db.session.scalars(select(DailyUsage.asset_id).where(DailyUsage.day == day).distinct()))
    return usage_rows, active, touched


def refresh_week(week: date) -> None:
    """Recompute the weekly rollups of one week (its Monday) from the daily
    rollups of its seven days."""
    first, last = week, week + timedelta(days=6)
    db.session.execute(delete(WeeklyAssetUsage).where(WeeklyAssetUsage.week == week))
    db.session.execute(delete(WeeklyActivity).where(WeeklyActivity.week == week))
    per_asset = (select(literal(week).label("week"), DailyUsage.asset_id, DailyUsage.kind,
                        func.sum(DailyUsage.events).cast(Integer))
                 .where(DailyUsage.day >= first, DailyUsage.day <= last)
                 .group_by(DailyUsage.asset_id, DailyUsage.kind))
    db.session.execute(insert(WeeklyAssetUsage).from_select(["week", "asset_id", "kind", "events"], per_asset))
    per_user = (select(literal(week).label("week"), DailyActivity.user_id, DailyActivity.role,
                       func.sum(DailyActivity.events).cast(Integer))
                .where(DailyActivity.day >= first, DailyActivity.day <= last)
                .group_by(DailyActivity.user_id, DailyActivity.role))
    db.session.execute(insert(WeeklyActivity).from_select(["week", "user_id", "role", "events"], per_user))


def refresh_totals(asset_ids: Iterable[int] | None = None) -> int:
    """Recompute all-time totals from daily_usage, for some assets or (None) all."""
    ids = None if asset_ids is None else sorted(set(asset_ids))
    if ids == []:
        return 0
    removing = delete(AssetUsageTotal)
    if ids is not None:
        removing = removing.where(AssetUsageTotal.asset_id.in_(ids))
    db.session.execute(removing)
    per_kind = [func.coalesce(func.sum(case((DailyUsage.kind == kind, DailyUsage.events), else_=0)), 0)
                .cast(Integer).label(column) for kind, column in TOTAL_COLUMNS.items()]
    totals = (
        select(DailyUsage.asset_id, func.sum(DailyUsage.events).cast(Integer).label("events"), *per_kind,
               func.min(DailyUsage.day).label("first_used_on"), func.max(DailyUsage.day).label("last_used_on"))
        .group_by(DailyUsage.asset_id)
    )
    if ids is not None:
        totals = totals.where(DailyUsage.asset_id.in_(ids))
    columns = ["asset_id", "events", *TOTAL_COLUMNS.values(), "first_used_on", "last_used_on"]
    return db.session.execute(insert(AssetUsageTotal).from_select(columns, totals)).rowcount


def rollup_days(days: Iterable[date], *, on_day: Callable[[date], None] | None = None) -> RollupReport:
    """Replace the rollups of these days (one transaction per day), recompute
    the week of each once its days are done (one transaction per week), then
    refresh the totals of every asset they touched."""
    report = RollupReport()
    touched: set[int] = set()
    for week, days_of_week in itertools.groupby(sorted(set(days)), key=week_of):
        for day in days_of_week:
            usage_rows, active, assets = _roll_day(day)
            db.session.commit()
            report.days += 1
            report.usage_rows += usage_rows
            report.active_users += active
            touched |= assets
            if on_day:
                on_day(day)
        refresh_week(week)
        db.session.commit()
        report.weeks += 1
    refresh_totals(touched)
    db.session.commit()
    report.assets_touched = len(touched)
    return report


def event_day_range() -> tuple[date, date] | None:
    """First and last day with any raw use."""
    first_event, last_event = db.session.execute(
        select(func.min(UsageEvent.occurred_at), func.max(UsageEvent.occurred_at))).one()
    first_report, last_report = db.session.execute(
        select(func.min(ReportedUse.occurred_on), func.max(ReportedUse.occurred_on))).one()
    firsts = [d for d in (first_event and first_event.date(), first_report) if d]
    lasts = [d for d in (last_event and last_event.date(), last_report) if d]
    if not firsts:
        return None
    return min(firsts), max(lasts)


def rebuild_rollups(since: date | None = None, until: date | None = None, *,
                    on_day: Callable[[date], None] | None = None) -> RollupReport:
    """Rebuild the rollups of a range (default: every day with data). A full
    rebuild also drops rows of days that no longer have any events."""
    span = event_day_range()
    full = since is None and until is None
    if full:
        for model in (DailyUsage, DailyActivity, DailyKindUsage, WeeklyAssetUsage, WeeklyActivity, AssetUsageTotal):
            db.session.execute(delete(model))
        db.session.commit()
    if span is None:
        return RollupReport()
    first, last = since or span[0], until or span[1]
    return rollup_days((first + timedelta(days=n) for n in range((last - first).days + 1)), on_day=on_day)
