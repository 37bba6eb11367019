"""One asset's analytics: usage over time, by kind, team and region, rating trend,
outcomes, reused slides, recent users."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from portal.analytics.asset_table import AssetRow, asset_row
from portal.analytics.live import consistent
from portal.analytics.overview import as_date
from portal.analytics.ranges import DateRange, in_range, in_spans
from portal.analytics.rollups import REGION, TEAM
from portal.analytics.usage import DECK_INCLUSION_LITERAL, KIND_LABELS, KINDS, recent_uses
from portal.extensions import db
from portal.models import (
    OUTCOMES,
    Asset,
    AssetVersion,
    DailyUsage,
    Rating,
    ReportedUse,
    UsageEvent,
    User,
    WeeklyAssetUsage,
)


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
    recent = recent_uses(window, mark, asset.id)
    for bucket, kind, events in _asset_series(asset.id, window, recent):
        if kind in series:
            series[kind][index[window.bucket_of(as_date(bucket))]] += int(events)
    by_kind = dict.fromkeys(KINDS, 0)
    by_team: dict[str, int] = defaultdict(int)
    by_region: dict[str, int] = defaultdict(int)
    rolled = db.session.execute(
        select(DailyUsage.kind, DailyUsage.team, DailyUsage.region, func.sum(DailyUsage.events))
        .where(DailyUsage.asset_id == asset.id, in_range(DailyUsage.day, window))
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
                                                        in_range(ReportedUse.occurred_on, window))
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
            .where(DailyUsage.asset_id == asset_id, in_spans(DailyUsage.day, loose))
            .group_by(DailyUsage.day, DailyUsage.kind)).all()
    points += db.session.execute(
        select(recent.c.day, recent.c.kind, func.count()).group_by(recent.c.day, recent.c.kind)).all()
    return points


def page_attention(asset: Asset, window: DateRange):
    """Seconds read and readers per page of the current version, from the viewer's beacons
    (portal/viewer/attention.py)."""
    from portal.viewer.attention import per_page

    return per_page(asset, window.since, window.until)


def attention_table(asset: Asset, window: DateRange):
    rows = page_attention(asset, window)
    return (["page", "title", "seconds", "readers", "average_seconds_per_reader"],
            [[r.number, r.title, round(r.seconds, 1), r.readers, round(r.average, 1)] for r in rows])
