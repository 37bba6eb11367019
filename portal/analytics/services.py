"""Usage analytics: overview, per-asset evidence, leaderboards, content score,
search gaps. Everything reads the rollups (portal/analytics/rollups.py) plus the
uses recorded since their watermark, read raw (portal/analytics/live.py), never
a scan of all raw events; only per-asset lists of recent users and reused slides
read raw events, through indexes on (asset, time).

Sums and distinct counts over a range read the weekly rollups for the whole
Monday-to-Sunday weeks inside it and the daily rollups only for the days of
the partial weeks at either end (DateRange.split): the same numbers as the
daily rows, from a fraction of the rows. The raw uses since the watermark are
added at day level, whatever part of the range they fall in."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, and_, case, cast, false, func, literal, or_, select, union

from portal.analytics.live import consistent, usage_totals
from portal.analytics.rollups import REGION, TEAM, raw_uses
from portal.errors import InvalidInput
from portal.extensions import db
from portal.models import (
    STAFF_ROLES,
    Asset,
    AssetVersion,
    DailyActivity,
    DailyKindUsage,
    DailyUsage,
    Rating,
    ReportedUse,
    SearchLog,
    UsageEvent,
    UsageKind,
    User,
    WeeklyActivity,
    WeeklyAssetUsage,
)

ANALYTICS_ROLES = STAFF_ROLES  # marketers, enablement leads, admins
DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 3 * 366
WEEKLY_AFTER_DAYS = 92  # longer ranges chart weekly points
KINDS = ("view", "download", "search_click", "deck_inclusion", "reported")
KIND_LABELS = {"view": "Views", "download": "Downloads", "search_click": "Search click-throughs",
               "deck_inclusion": "Deck inclusions", "reported": "Reported uses"}
OUTCOMES = ("won", "lost", "open")
# Written into the SQL rather than bound: only then can the plan PostgreSQL keeps
# for a prepared statement (and SQLite's planner) use the partial index
# ix_usage_events_deck_inclusions, whose condition is kind = 'deck_inclusion'.
DECK_INCLUSION_LITERAL = literal(UsageKind.DECK_INCLUSION.value, literal_execute=True)


# --- date ranges ----------------------------------------------------------------------

@dataclass(frozen=True)
class DateRange:
    since: date
    until: date  # inclusive

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    @property
    def weekly(self) -> bool:
        return self.days > WEEKLY_AFTER_DAYS

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time.min)

    @property
    def end(self) -> datetime:
        """The first instant after the range."""
        return datetime.combine(self.until + timedelta(days=1), time.min)

    def buckets(self) -> list[date]:
        """Chart points: each day, or each Monday-started week for long ranges."""
        if not self.weekly:
            return [self.since + timedelta(days=n) for n in range(self.days)]
        first = self.since - timedelta(days=self.since.weekday())
        return [first + timedelta(weeks=n) for n in range((self.until - first).days // 7 + 1)]

    def bucket_of(self, day: date) -> date:
        return day - timedelta(days=day.weekday()) if self.weekly else day

    def split(self) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
        """The whole Monday-to-Sunday weeks inside the range, as (first Monday,
        last Monday) or None, and the days outside them as inclusive spans."""
        first = self.since + timedelta(days=-self.since.weekday() % 7)  # first Monday on or after since
        last = self.until - timedelta(days=(self.until.weekday() + 1) % 7)  # last Sunday on or before until
        if last < first:
            return None, [(self.since, self.until)]
        loose = []
        if self.since < first:
            loose.append((self.since, first - timedelta(days=1)))
        if last < self.until:
            loose.append((last + timedelta(days=1), self.until))
        return (first, last - timedelta(days=6)), loose


def _parse_day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a date like 2026-01-31.", {name: "Not a date."}, status=400) from None


def parse_range(args: Mapping[str, str], today: date | None = None,
                default_days: int = DEFAULT_RANGE_DAYS) -> DateRange:
    """since/until (YYYY-MM-DD, inclusive) or days=N ending today."""
    today = today or date.today()
    until = _parse_day(args["until"], "until") if args.get("until") else today
    if args.get("since"):
        since = _parse_day(args["since"], "since")
    else:
        try:
            days = int(args.get("days") or default_days)
        except ValueError:
            raise InvalidInput("days must be a whole number.", {"days": "Not a number."}, status=400) from None
        if not 1 <= days <= MAX_RANGE_DAYS:
            raise InvalidInput(f"days is between 1 and {MAX_RANGE_DAYS}.", {"days": "Out of range."}, status=400)
        since = until - timedelta(days=days - 1)
    if since > until:
        raise InvalidInput("since is after until.", {"since": "After until."}, status=400)
    if (until - since).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(f"A range spans at most {MAX_RANGE_DAYS} days.", {"since": "Range too long."}, status=400)
    return DateRange(since, until)


def _in_range(column, window: DateRange):
    return and_(column >= window.since, column <= window.until)


def _in_spans(column, spans: list[tuple[date, date]]):
    return or_(false(), *(and_(column >= first, column <= last) for first, last in spans))


def _weekly_and_daily(window: DateRange, weekly_model, daily_model, *columns: str):
    """The same columns from the weekly rollup (whole weeks of the range) and
    the daily one (the other days), as two selects to combine."""
    weeks, loose = window.split()
    in_weeks = and_(weekly_model.week >= weeks[0], weekly_model.week <= weeks[1]) if weeks else false()
    return (select(*(getattr(weekly_model, c) for c in columns)).where(in_weeks),
            select(*(getattr(daily_model, c) for c in columns)).where(_in_spans(daily_model.day, loose)))


def _recent(window: DateRange, mark: datetime, asset_id: int | None = None):
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
                       .where(_in_spans(DailyUsage.day, loose),
                              *([DailyUsage.asset_id == asset_id] if asset_id is not None else []))
                       .group_by(DailyUsage.asset_id))
    recent = _recent(window, mark, asset_id)
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


# --- overview -------------------------------------------------------------------------

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


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


@consistent
def overview(window: DateRange, *, mark: datetime) -> Overview:
    totals = dict.fromkeys(KINDS, 0)
    buckets = window.buckets()
    index = {bucket: n for n, bucket in enumerate(buckets)}
    series = {kind: [0] * len(buckets) for kind in (*KINDS, "active_reps")}
    recent = _recent(window, mark)
    rolled = db.session.execute(select(DailyKindUsage.day, DailyKindUsage.kind, DailyKindUsage.events)
                                .where(_in_range(DailyKindUsage.day, window))).all()
    raw = db.session.execute(select(recent.c.day, recent.c.kind, func.count())
                             .group_by(recent.c.day, recent.c.kind)).all()
    for day, kind, events in rolled + raw:
        if kind in totals:
            totals[kind] += events
            series[kind][index[window.bucket_of(_as_date(day))]] += events
    # Distinct reps per point: per week that is not the sum of the daily counts.
    for bucket, count in _active_reps_per_point(window, recent).items():
        series["active_reps"][index[bucket]] = count
    weekly_users, daily_users = _weekly_and_daily(window, WeeklyActivity, DailyActivity, "user_id", "role")
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
        DailyUsage.asset_id == Asset.id, _in_spans(DailyUsage.day, loose)).exists() if loose else false()
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
        return [(DailyActivity.day, DailyActivity.user_id, [_in_range(DailyActivity.day, window), reps])]
    weeks, loose = window.split()
    sources = []
    if weeks:
        sources.append((WeeklyActivity.week, WeeklyActivity.user_id,
                        [WeeklyActivity.week >= weeks[0], WeeklyActivity.week <= weeks[1], WeeklyActivity.role == "rep"]))
    if loose:
        sources.append((_week_start(DailyActivity.day), DailyActivity.user_id, [_in_spans(DailyActivity.day, loose), reps]))
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
            counts[_as_date(bucket)] += reps
    recent_point = _week_start(recent.c.day) if window.weekly else recent.c.day
    fresh = {(_as_date(bucket), user) for bucket, user in db.session.execute(
        select(recent_point, recent.c.user_id).join(User, User.id == recent.c.user_id)
        .where(User.role == "rep").distinct())}
    if fresh:
        points, users = {bucket for bucket, _ in fresh}, {user for _, user in fresh}
        for point, user_id, conditions in sources:
            fresh -= {(_as_date(bucket), user) for bucket, user in db.session.execute(
                select(point, user_id).where(*conditions, point.in_(points), user_id.in_(users)))}
        for bucket, _ in fresh:
            counts[bucket] += 1
    return counts


# --- the asset table: leaderboards, score, quadrant ----------------------------------

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

    @property
    def uses(self) -> int:
        return sum(self.counts.values())


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


def asset_table(window: DateRange, today: date | None = None, *, include_retired: bool = False) -> AssetTable:
    """One row per asset in the library during the range, with its uses in the
    range, its rating, last use and content score as of the end of the range."""
    today = today or window.until
    condition = library_in(window) if include_retired else and_(library_in(window), Asset.status == "published")
    rows = _asset_rows(condition)
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
    _complete_rows(rows, per_asset, today or window.until, asset_id)
    return rows[asset_id]


# --- one asset ------------------------------------------------------------------------

@dataclass
class AssetAnalytics:
    asset: Asset
    window: DateRange
    row: AssetRow | None
    labels: list[str]
    series: dict[str, list[int]]
    by_kind: dict[str, int]
    by_team: list[tuple[str, int]]
    by_region: list[tuple[str, int]]
    rating_trend: list[tuple[str, float, int]]  # (month, average so far, ratings so far)
    outcomes: dict[str, int]
    slides: list[tuple[int, int, int]]  # (version number, slide number, inclusions)
    recent: list[tuple[datetime, str, str, str]]  # (when, who, team, what)


@consistent
def asset_analytics(asset: Asset, window: DateRange, today: date | None = None, *, mark: datetime) -> AssetAnalytics:
    buckets = window.buckets()
    index = {bucket: n for n, bucket in enumerate(buckets)}
    series = {kind: [0] * len(buckets) for kind in KINDS}
    recent = _recent(window, mark, asset.id)
    for bucket, kind, events in _asset_series(asset.id, window, recent):
        if kind in series:
            series[kind][index[window.bucket_of(_as_date(bucket))]] += int(events)
    by_kind = dict.fromkeys(KINDS, 0)
    by_team: dict[str, int] = defaultdict(int)
    by_region: dict[str, int] = defaultdict(int)
    rolled = db.session.execute(
        select(DailyUsage.kind, DailyUsage.team, DailyUsage.region, func.sum(DailyUsage.events))
        .where(DailyUsage.asset_id == asset.id, _in_range(DailyUsage.day, window))
        .group_by(DailyUsage.kind, DailyUsage.team, DailyUsage.region)).all()
    raw = db.session.execute(
        select(recent.c.kind, TEAM, REGION, func.count())
        .select_from(recent).outerjoin(User, User.id == recent.c.user_id)
        .group_by(recent.c.kind, TEAM, REGION)).all()
    for kind, team, region, events in rolled + raw:
        if kind not in by_kind:
            continue
        by_kind[kind] += int(events)
        by_team[team or "(no team)"] += int(events)
        by_region[region or "(no region)"] += int(events)

    trend, count, total = [], 0, 0
    months: dict[str, list[int]] = defaultdict(list)
    for stars, created_at in db.session.execute(
        select(Rating.stars, Rating.created_at).where(Rating.asset_id == asset.id).order_by(Rating.created_at)
    ):
        months[created_at.strftime("%Y-%m")].append(stars)
    for month in sorted(months):
        count += len(months[month])
        total += sum(months[month])
        trend.append((month, round(total / count, 2), count))

    outcomes = dict.fromkeys(OUTCOMES, 0)
    for outcome, n in db.session.execute(
        select(ReportedUse.outcome, func.count()).where(ReportedUse.asset_id == asset.id,
                                                        _in_range(ReportedUse.occurred_on, window))
        .group_by(ReportedUse.outcome)
    ):
        if outcome in outcomes:
            outcomes[outcome] = n

    slides = [(number or 0, page or 0, n) for number, page, n in db.session.execute(
        select(AssetVersion.number, UsageEvent.page_number, func.count())
        .select_from(UsageEvent).outerjoin(AssetVersion, AssetVersion.id == UsageEvent.version_id)
        .where(UsageEvent.asset_id == asset.id, UsageEvent.kind == DECK_INCLUSION_LITERAL,
               UsageEvent.occurred_at >= window.start, UsageEvent.occurred_at < window.end)
        .group_by(AssetVersion.number, UsageEvent.page_number)
    )]
    slides.sort(key=lambda item: (-item[2], item[0], item[1]))

    recent = [(when, user.display_name if user else "(deleted user)", (user.team or "") if user else "",
               KIND_LABELS.get(kind, kind)) for when, kind, user in db.session.execute(
        select(UsageEvent.occurred_at, UsageEvent.kind, User)
        .outerjoin(User, User.id == UsageEvent.user_id)
        .where(UsageEvent.asset_id == asset.id).order_by(UsageEvent.occurred_at.desc()).limit(10)
    )]
    row = asset_row(asset.id, window, today, counts=by_kind)
    return AssetAnalytics(
        asset=asset, window=window, row=row, labels=[b.isoformat() for b in buckets], series=series,
        by_kind=by_kind, by_team=sorted(by_team.items(), key=lambda kv: (-kv[1], kv[0])),
        by_region=sorted(by_region.items(), key=lambda kv: (-kv[1], kv[0])), rating_trend=trend,
        outcomes=outcomes, slides=slides[:50], recent=recent,
    )


def _asset_series(asset_id: int, window: DateRange, recent) -> list:
    """(day or week, kind, events) of one asset: per day from the daily rollup,
    or per week, whole weeks from the weekly rollup and the days of the partial
    weeks at the ends from the daily one; plus the raw uses since the watermark
    per day (the caller puts days in their weeks)."""
    weeks, loose = window.split() if window.weekly else (None, [(window.since, window.until)])
    points = []
    if weeks:
        points += db.session.execute(
            select(WeeklyAssetUsage.week, WeeklyAssetUsage.kind, WeeklyAssetUsage.events)
            .where(WeeklyAssetUsage.asset_id == asset_id, WeeklyAssetUsage.week >= weeks[0],
                   WeeklyAssetUsage.week <= weeks[1])).all()
    if loose:
        points += db.session.execute(
            select(DailyUsage.day, DailyUsage.kind, func.sum(DailyUsage.events))
            .where(DailyUsage.asset_id == asset_id, _in_spans(DailyUsage.day, loose))
            .group_by(DailyUsage.day, DailyUsage.kind)).all()
    points += db.session.execute(
        select(recent.c.day, recent.c.kind, func.count()).group_by(recent.c.day, recent.c.kind)).all()
    return points


# --- search gaps ----------------------------------------------------------------------

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
