"""Rollups of usage, and the watermark that keeps the dashboards up to the minute.

Raw usage events and reported uses pile up by the million; dashboards read
small derived tables, all rebuilt from the raw rows (the database stays the
source of truth):
  daily_usage          events and distinct users per day, asset, kind, team, region
  daily_activity       one row per user and day they used anything
  daily_kind_usage     events per day and kind (the overview)
  weekly_asset_usage   events per week, asset and kind (long ranges: whole weeks)
  weekly_activity      one row per user, role and week they used anything
  asset_usage_totals   all-time counts and first/last use per asset

Up to the minute: the rollups hold exactly the uses recorded before one instant,
the watermark (table rollup_watermark), and none recorded since. A usage event
counts as recorded when it occurred (`occurred_at`, stamped as it is saved); a
reported use when it was saved (`created_at`: the day it reports is often
earlier). Every reader adds the uses recorded since the watermark, read raw
through the indexes on those two columns (`raw_uses(recorded_from=...)`; see
portal/analytics/live.py): usually a quarter of an hour of them, so the raw part
costs milliseconds at any size, and as the two parts never overlap nothing is
counted twice, before or after a rollup. (Splitting by day instead, "closed
days from the rollups, today raw", would read up to a day of raw events, miss
the last minutes of yesterday until the job ran after midnight, and could not
place a reported use backdated to a closed day.)

`rollup_recent` (the queue's job, every 15 minutes) moves the watermark to now:
it rolls up again every day that gained uses since the last move (today; just
after midnight also yesterday; the day any reported use was backdated to) and
writes the new watermark in the same transaction, so readers see the old
rollups with the old watermark or the new ones with the new. Rolling up a day
replaces that day's rows (so it can run again at any time), then recomputes
its week from the seven daily rollups of that week (so a day rolled up again is
never counted twice) and the totals of the assets that day touched. Weeks start
on Monday. `rollup_days` rolls days up again at the current watermark (after
raw rows were deleted or edited: the job notices new rows only, so a change to
a row already rolled up shows once its day is rolled up again); a full rebuild
(`flask --app portal rollup`) starts from a new watermark. Every rollup
transaction first locks the watermark's row, so two never interleave.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import (
    Date,
    Integer,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)

from portal.extensions import db
from portal.models import (
    AssetUsageTotal,
    DailyActivity,
    DailyKindUsage,
    DailyUsage,
    ReportedUse,
    RollupWatermark,
    UsageEvent,
    UsageKind,
    User,
    WeeklyActivity,
    WeeklyAssetUsage,
    utcnow,
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
ROLLUP_MODELS = (DailyUsage, DailyActivity, DailyKindUsage, WeeklyAssetUsage, WeeklyActivity, AssetUsageTotal)
EPOCH = datetime(1970, 1, 1)  # the watermark while nothing is rolled up: readers read every use raw
# A use stamped shortly before the watermark can be committed after the rollup read its day (its
# transaction was still open), or before there was a watermark (migration 0007: the former job's last
# quarter of an hour): the next move rolls up again the day of every use stamped this long before.
LATE_USES = timedelta(minutes=20)
# The team and region a use counts for, as daily_usage keeps them (raw uses join users for them).
TEAM, REGION = func.coalesce(User.team, ""), func.coalesce(User.region, "")


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


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min)


def day_of(column):
    """The date of a timestamp column, in SQL, as a date."""
    if db.engine.dialect.name == "postgresql":
        return cast(column, Date)
    return func.date(column, type_=Date)  # SQLite keeps timestamps as text


def raw_uses(*, since: date | None = None, until: date | None = None, recorded_from: datetime | None = None,
             recorded_before: datetime | None = None, asset_ids: Iterable[int] | None = None):
    """Raw uses as rows (day, asset_id, kind, user_id, events = 1): usage events
    plus reported uses, on the days since..until (inclusive; None: unbounded),
    recorded at or after one instant and/or before another, of some assets."""
    # One lower and one upper bound on occurred_at: SQLite ranges an index on one of each only.
    lower = max((bound for bound in (since and _start_of(since), recorded_from) if bound), default=None)
    upper = min((bound for bound in (until and _start_of(until + timedelta(days=1)), recorded_before) if bound),
                default=None)
    events = (select(day_of(UsageEvent.occurred_at).label("day"), UsageEvent.asset_id, UsageEvent.kind,
                     UsageEvent.user_id, literal(1).label("events"))
              .where(UsageEvent.kind != REPORTED))
    reported = select(ReportedUse.occurred_on.label("day"), ReportedUse.asset_id, literal(REPORTED).label("kind"),
                      ReportedUse.user_id, literal(1).label("events"))
    if lower is not None:
        events = events.where(UsageEvent.occurred_at >= lower)
    if upper is not None:
        events = events.where(UsageEvent.occurred_at < upper)
    if since is not None:
        reported = reported.where(ReportedUse.occurred_on >= since)
    if until is not None:
        reported = reported.where(ReportedUse.occurred_on <= until)
    if recorded_from is not None:
        reported = reported.where(ReportedUse.created_at >= recorded_from)
    if recorded_before is not None:
        reported = reported.where(ReportedUse.created_at < recorded_before)
    if asset_ids is not None:
        ids = list(asset_ids)
        events, reported = events.where(UsageEvent.asset_id.in_(ids)), reported.where(ReportedUse.asset_id.in_(ids))
    return union_all(events, reported).subquery("uses")


# --- the watermark -------------------------------------------------------------------------

def watermark() -> datetime:
    """The instant the rollups end at: they hold every use recorded before it, none after."""
    return db.session.scalar(select(RollupWatermark.rolled_up_until).where(RollupWatermark.id == 1)) or EPOCH


def _lock_watermark() -> datetime:
    """Wait for any other rollup transaction, then return the watermark. Setting
    the row to itself takes a row lock on PostgreSQL and the write lock on SQLite."""
    locked = db.session.execute(update(RollupWatermark).where(RollupWatermark.id == 1)
                                .values(rolled_up_until=RollupWatermark.rolled_up_until))
    if locked.rowcount == 0:
        db.session.add(RollupWatermark(id=1, rolled_up_until=EPOCH))
        db.session.flush()
    return watermark()


def _set_watermark(at: datetime) -> None:
    db.session.execute(update(RollupWatermark).where(RollupWatermark.id == 1).values(rolled_up_until=at))


@contextmanager
def _transaction() -> Iterator[datetime]:
    """One rollup transaction, serialised with the others; yields the watermark."""
    try:
        yield _lock_watermark()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


# --- rolling up ----------------------------------------------------------------------------

def _roll_day(day: date, cutoff: datetime) -> tuple[int, int, set[int]]:
    """Replace the rollups of one day with its uses recorded before `cutoff`."""
    touched = set(db.session.scalars(select(DailyUsage.asset_id).where(DailyUsage.day == day).distinct()))
    db.session.execute(delete(DailyUsage).where(DailyUsage.day == day))
    db.session.execute(delete(DailyActivity).where(DailyActivity.day == day))
    db.session.execute(delete(DailyKindUsage).where(DailyKindUsage.day == day))

    uses = raw_uses(since=day, until=day, recorded_before=cutoff)
    per_asset = (
        select(literal(day).label("day"), uses.c.asset_id, uses.c.kind, TEAM, REGION,
               func.count().label("events"), func.count(uses.c.user_id.distinct()).label("users"))
        .select_from(uses).outerjoin(User, User.id == uses.c.user_id)
        .group_by(uses.c.asset_id, uses.c.kind, TEAM, REGION)
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


def _roll(days: Iterable[date], step: Callable[[], AbstractContextManager[datetime]],
          on_day: Callable[[date], None] | None = None) -> RollupReport:
    """Replace the rollups of these days, then recompute the week of each once
    its days are done, then the totals of every asset they touched; each of
    those steps inside `step()`, which yields the cutoff of the days' uses."""
    report = RollupReport()
    touched: set[int] = set()
    for week, days_of_week in itertools.groupby(sorted(set(days)), key=week_of):
        for day in days_of_week:
            with step() as cutoff:
                usage_rows, active, assets = _roll_day(day, cutoff)
            report.days += 1
            report.usage_rows += usage_rows
            report.active_users += active
            touched |= assets
            if on_day:
                on_day(day)
        with step():
            refresh_week(week)
        report.weeks += 1
    with step():
        refresh_totals(touched)
    report.assets_touched = len(touched)
    return report


def rollup_days(days: Iterable[date], *, on_day: Callable[[date], None] | None = None) -> RollupReport:
    """Roll these days up again at the current watermark (one transaction per
    day, then per week, then for the totals): after raw rows were deleted, or to
    rebuild. The watermark does not move."""
    return _roll(days, _transaction, on_day)


def rollup_recent() -> RollupReport:
    """Fold the uses recorded since the watermark into the rollups and move it
    to now, in one transaction: every day with a use recorded since (or shortly
    before, see LATE_USES) is rolled up again with everything recorded until now."""
    if watermark() == EPOCH:
        return rebuild_rollups()  # nothing rolled up yet: all of it, a day per transaction
    with _transaction() as mark:
        now = utcnow()
        uses = raw_uses(recorded_from=mark - LATE_USES, recorded_before=now)
        days = set(db.session.scalars(select(uses.c.day).distinct()))
        report = _roll(days, lambda: nullcontext(now))
        _set_watermark(now)
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
    """Rebuild the rollups of a range (default: every day with data), at the
    current watermark. A full rebuild starts from a new one (now) and also drops
    rows of days that no longer have any events; until it is done the
    dashboards miss the days it has not reached yet."""
    if since is None and until is None:
        with _transaction():
            for model in ROLLUP_MODELS:
                db.session.execute(delete(model))
            _set_watermark(utcnow())
    span = event_day_range()
    if span is None:
        return RollupReport()
    first, last = since or span[0], until or span[1]
    return rollup_days((first + timedelta(days=n) for n in range((last - first).days + 1)), on_day=on_day)
