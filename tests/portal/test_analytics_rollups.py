"""The coarser rollups (per day and kind, per week and asset, active users per
week) against the raw events they come from: ranges that start and end in the
middle of a week, days rolled up again, and the migration that fills them."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from portal.analytics import asset_report, asset_table, overview
from portal.analytics.ranges import DateRange
from portal.analytics.rollups import rebuild_rollups, rollup_days, week_of
from portal.analytics.usage import KINDS, usage_counts
from portal.extensions import db
from portal.models import (
    DailyActivity,
    DailyKindUsage,
    DailyUsage,
    ReportedUse,
    UsageEvent,
    WeeklyActivity,
    WeeklyAssetUsage,
)

FIRST_DAY, LAST_DAY = date(2025, 12, 29), date(2026, 4, 26)  # a Monday to a Sunday: 17 weeks of events
# Wednesday 2026-01-07 to Thursday 2026-04-16 (100 days, charted weekly): whole weeks from Monday 01-12 to
# Sunday 04-12, partial weeks 01-07..11 and 04-13..16.
LONG = DateRange(date(2026, 1, 7), date(2026, 4, 16))
SHORT = DateRange(date(2026, 1, 7), date(2026, 2, 19))  # Wednesday to Thursday, 44 days, charted daily


def test_a_range_splits_into_whole_weeks_and_the_days_at_either_end():
    assert LONG.split() == ((date(2026, 1, 12), date(2026, 4, 6)),
                            [(date(2026, 1, 7), date(2026, 1, 11)), (date(2026, 4, 13), date(2026, 4, 16))])
    assert DateRange(date(2026, 1, 12), date(2026, 1, 25)).split() == ((date(2026, 1, 12), date(2026, 1, 19)), [])
    assert DateRange(date(2026, 1, 13), date(2026, 1, 18)).split() == (None, [(date(2026, 1, 13),
                                                                              date(2026, 1, 18))])
    assert DateRange(date(2026, 1, 11), date(2026, 1, 17)).split() == (None, [(date(2026, 1, 11),
                                                                              date(2026, 1, 17))])
    assert DateRange(date(2026, 1, 11), date(2026, 1, 19)).split() == (
        (date(2026, 1, 12), date(2026, 1, 12)), [(date(2026, 1, 11), date(2026, 1, 11)),
                                                 (date(2026, 1, 19), date(2026, 1, 19))])
    assert DateRange(date(2026, 1, 11), date(2026, 1, 18)).split() == (
        (date(2026, 1, 12), date(2026, 1, 12)), [(date(2026, 1, 11), date(2026, 1, 11))])
    assert week_of(date(2026, 1, 11)) == date(2026, 1, 5) and week_of(date(2026, 1, 12)) == date(2026, 1, 12)


@pytest.fixture
def usage(factories):
    """Four months of seeded random usage by three reps (two teams) and a
    marketer over four assets, plus hand-placed uses of two more assets on the
    days around the edges of LONG. Returns the raw uses as (day, asset id, kind,
    user id, role) and the users and assets."""
    reps = [factories.user("rep", team=team, region="EU") for team in ("East", "East", "West")]
    marketer = factories.user("marketer")
    users = [*reps, marketer]
    role = {user.id: user.role for user in users}
    assets = [factories.asset(owner=marketer, title=f"Item {n}") for n in range(6)]
    for asset in assets:
        asset.created_at = datetime(2025, 1, 1)
    common, edges, outside = assets[:4], assets[4], assets[5]
    rng = random.Random(6)
    raw = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        for _ in range(rng.randint(0, 9)):
            asset, user = rng.choice(common), rng.choice(users)
            kind = rng.choice(KINDS)
            raw.append((day, asset.id, kind, user.id, role[user.id]))
        day += timedelta(days=1)
    # At the edges of LONG: the day before, its first day, the last day of its first partial week, the first
    # and last day of its whole weeks, the first day of the last partial week, its last day, the day after.
    for when in (date(2026, 1, 6), date(2026, 1, 7), date(2026, 1, 11), date(2026, 1, 12), date(2026, 4, 12),
                 date(2026, 4, 13), date(2026, 4, 16), date(2026, 4, 17)):
        raw.append((when, edges.id, "view", reps[2].id, "rep"))
    for when in (date(2026, 1, 6), date(2026, 4, 17)):  # used just outside LONG only
        raw.append((when, outside.id, "download", reps[0].id, "rep"))
    for when, asset_id, kind, user_id, _ in raw:
        moment = datetime.combine(when, datetime.min.time()) + timedelta(hours=rng.randint(0, 23))
        if kind == "reported":
            db.session.add(ReportedUse(asset_id=asset_id, user_id=user_id, kind="presented", occurred_on=when))
        else:
            db.session.add(UsageEvent(asset_id=asset_id, user_id=user_id, kind=kind, occurred_at=moment))
    db.session.commit()
    rebuild_rollups()
    return {"raw": raw, "reps": reps, "marketer": marketer, "assets": assets}


def _per_asset(sums: Counter) -> dict[int, dict[str, int]]:
    return {asset_id: {kind: sums[(asset_id, kind)] for kind in KINDS} for asset_id, _ in sums}


def _expected(raw, window: DateRange):
    inside = [use for use in raw if window.since <= use[0] <= window.until]
    sums = Counter((asset_id, kind) for _, asset_id, kind, _, _ in inside)
    totals = Counter(kind for _, _, kind, _, _ in inside)
    by_role = defaultdict(set)
    reps_per_point = defaultdict(set)
    for day, _, _, user_id, role in inside:
        by_role[role].add(user_id)
        if role == "rep":
            reps_per_point[window.bucket_of(day)].add(user_id)
    return inside, sums, totals, by_role, reps_per_point


@pytest.mark.parametrize("window", [LONG, SHORT], ids=["weekly", "daily"])
def test_mid_week_ranges_give_the_numbers_of_the_raw_events(usage, window):
    inside, sums, totals, by_role, reps_per_point = _expected(usage["raw"], window)
    assert len(inside) > 100 and window.split()[0] is not None and len(window.split()[1]) == 2

    assert usage_counts(window) == _per_asset(sums)
    table = {row.asset_id: row for row in asset_table.asset_table(window).rows}
    for asset in usage["assets"]:
        assert table[asset.id].counts == {kind: sums[(asset.id, kind)] for kind in KINDS}, asset.title

    data = overview.overview(window)
    assert data.totals == {kind: totals[kind] for kind in KINDS}
    assert data.active_reps == len(by_role["rep"]) and data.active_users == sum(map(len, by_role.values()))
    assert data.assets_used == len({asset_id for asset_id, _ in sums}) == 5  # not the one used just outside
    buckets = window.buckets()
    assert data.series["active_reps"] == [len(reps_per_point[bucket]) for bucket in buckets]
    for kind in KINDS:
        assert data.series[kind] == [sum(1 for day, _, k, _, _ in inside if k == kind and window.bucket_of(day) == b)
                                     for b in buckets]

    for asset in usage["assets"][:5]:
        detail = asset_report.asset_analytics(asset, window)
        assert detail.by_kind == {kind: sums[(asset.id, kind)] for kind in KINDS}
        assert detail.row.counts == detail.by_kind
        for kind in KINDS:
            assert detail.series[kind] == [
                sum(1 for day, a, k, _, _ in inside if a == asset.id and k == kind and window.bucket_of(day) == b)
                for b in buckets]


def test_the_edges_are_counted_once_and_only_inside_the_range(usage):
    edges, outside = usage["assets"][4], usage["assets"][5]
    # 01-07, 01-11 (first partial week), 01-12 and 04-12 (whole weeks), 04-13 and 04-16 (last partial week)
    assert usage_counts(LONG, edges.id) == {edges.id: {**dict.fromkeys(KINDS, 0), "view": 6}}
    assert usage_counts(LONG, outside.id) == {}
    row = asset_table.asset_row(edges.id, LONG)
    assert row.counts["view"] == 6 and row.last_used_on == date(2026, 4, 17)
    detail = asset_report.asset_analytics(edges, LONG)
    assert detail.series["view"][0] == 2 and detail.series["view"][1] == 1 and detail.series["view"][-1] == 2
    assert detail.series["view"][-2] == 1  # the week of 04-06: Sunday 04-12


def _weekly_matches_daily() -> None:
    """Every weekly row is the sum of the daily rows of its week, and nothing else is there."""
    weekly = {(w, a, k): n for w, a, k, n in db.session.execute(
        select(WeeklyAssetUsage.week, WeeklyAssetUsage.asset_id, WeeklyAssetUsage.kind, WeeklyAssetUsage.events))}
    daily = Counter()
    for day, asset_id, kind, events in db.session.execute(
            select(DailyUsage.day, DailyUsage.asset_id, DailyUsage.kind, DailyUsage.events)):
        daily[(week_of(day), asset_id, kind)] += events
    assert weekly == dict(daily)
    active = Counter()
    for day, user_id, role, events in db.session.execute(
            select(DailyActivity.day, DailyActivity.user_id, DailyActivity.role, DailyActivity.events)):
        active[(week_of(day), user_id, role)] += events
    assert {(w, u, r): n for w, u, r, n in db.session.execute(
        select(WeeklyActivity.week, WeeklyActivity.user_id, WeeklyActivity.role, WeeklyActivity.events))
    } == dict(active)
    per_kind = Counter()
    for day, kind, events in db.session.execute(select(DailyUsage.day, DailyUsage.kind, DailyUsage.events)):
        per_kind[(day, kind)] += events
    assert {(d, k): n for d, k, n in db.session.execute(
        select(DailyKindUsage.day, DailyKindUsage.kind, DailyKindUsage.events))} == dict(per_kind)


def test_rolling_up_days_again_does_not_double_count(usage):
    _weekly_matches_daily()
    total = db.session.scalar(select(func.sum(WeeklyAssetUsage.events)))
    assert total == len(usage["raw"])
    before = usage_counts(LONG)
    wednesday, sunday = date(2026, 2, 4), date(2026, 2, 8)  # in the same whole week of LONG
    rollup_days([wednesday])
    rollup_days([wednesday, sunday, date(2026, 1, 9)])
    report = rollup_days([sunday])
    assert report.days == 1 and report.weeks == 1
    assert db.session.scalar(select(func.sum(WeeklyAssetUsage.events))) == total
    assert db.session.scalar(select(func.sum(DailyKindUsage.events))) == total
    assert usage_counts(LONG) == before
    _weekly_matches_daily()


def test_a_day_rolled_up_again_follows_new_and_deleted_events(usage):
    x, rep = usage["assets"][0], usage["reps"][0]
    wednesday = date(2026, 2, 4)
    before = usage_counts(LONG)
    reps_before = overview.overview(LONG).series["active_reps"]
    db.session.add_all(UsageEvent(asset_id=x.id, user_id=rep.id, kind="download",
                                  occurred_at=datetime(2026, 2, 4, 15, n)) for n in range(3))
    db.session.commit()
    rollup_days([wednesday])
    after = usage_counts(LONG)
    assert after[x.id] == {**before[x.id], "download": before[x.id]["download"] + 3}
    assert {key: n for key, n in after.items() if key != x.id} == {key: n for key, n in before.items() if key != x.id}
    _weekly_matches_daily()

    db.session.execute(delete(UsageEvent).where(UsageEvent.occurred_at >= datetime(2026, 2, 4),
                                                UsageEvent.occurred_at < datetime(2026, 2, 5)))
    db.session.execute(delete(ReportedUse).where(ReportedUse.occurred_on == wednesday))
    db.session.commit()
    rollup_days([wednesday])
    _weekly_matches_daily()
    raw = [use for use in usage["raw"] if use[0] != wednesday]
    _, sums, _, _, reps_per_point = _expected(raw, LONG)
    assert usage_counts(LONG) == _per_asset(sums)
    week = LONG.buckets().index(date(2026, 2, 2))
    assert overview.overview(LONG).series["active_reps"][week] == len(reps_per_point[date(2026, 2, 2)])
    assert reps_before[week] >= len(reps_per_point[date(2026, 2, 2)])


def test_rebuilding_part_of_the_range_keeps_the_weeks_whole(usage):
    db.session.execute(delete(WeeklyAssetUsage))
    db.session.execute(delete(WeeklyActivity))
    db.session.commit()
    report = rebuild_rollups(date(2026, 2, 4), date(2026, 2, 10))  # Wednesday to the next Tuesday: two weeks
    assert (report.days, report.weeks) == (7, 2)
    weeks = set(db.session.scalars(select(WeeklyAssetUsage.week).distinct()))
    assert weeks == {date(2026, 2, 2), date(2026, 2, 9)}
    # Those weeks hold all their days, not only the rebuilt ones.
    for week in weeks:
        expected = sum(1 for day, *_ in usage["raw"] if week_of(day) == week)
        assert db.session.scalar(select(func.sum(WeeklyAssetUsage.events))
                                 .where(WeeklyAssetUsage.week == week)) == expected
    rebuild_rollups()
    _weekly_matches_daily()


def test_the_migration_fills_the_new_rollups_from_the_daily_ones(tmp_path):
    """Upgrading a database that already has daily rollups (0005) fills the
    tables of 0006 from them, weeks starting on Monday."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from portal.database import alembic_config

    url = f"sqlite:///{tmp_path / 'portal.db'}"
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "0005")
            connection.execute(text(
                "INSERT INTO users (id, email, name, password_hash, role, active, created_at) VALUES "
                "(1, 'a@example.com', '', 'x', 'rep', 1, '2026-01-01 00:00:00.000000')"))
            connection.execute(text(
                "INSERT INTO assets (id, title, description, content_type, status, owner_id, created_at, updated_at) "
                "VALUES (7, 'X', '', 'deck', 'published', 1, '2026-01-01 00:00:00.000000', "
                "'2026-01-01 00:00:00.000000')"))
            for day, kind, team, events in (("2026-01-11", "view", "East", 2), ("2026-01-12", "view", "East", 3),
                                            ("2026-01-12", "view", "West", 4), ("2026-01-18", "download", "", 1)):
                connection.execute(text(
                    "INSERT INTO daily_usage (day, asset_id, kind, team, region, events, users) "
                    "VALUES (:day, 7, :kind, :team, '', :events, 1)"),
                    {"day": day, "kind": kind, "team": team, "events": events})
            for day in ("2026-01-11", "2026-01-12", "2026-01-18"):
                connection.execute(text("INSERT INTO daily_activity (day, user_id, role, events) "
                                        "VALUES (:day, 1, 'rep', 2)"), {"day": day})
            command.upgrade(config, "0006")
            weekly = connection.execute(text(
                "SELECT week, asset_id, kind, events FROM weekly_asset_usage ORDER BY week, kind")).all()
            activity = connection.execute(text("SELECT week, user_id, role, events FROM weekly_activity "
                                               "ORDER BY week")).all()
            per_kind = connection.execute(text("SELECT day, kind, events FROM daily_kind_usage "
                                               "ORDER BY day, kind")).all()
    finally:
        engine.dispose()
    assert weekly == [("2026-01-05", 7, "view", 2), ("2026-01-12", 7, "download", 1), ("2026-01-12", 7, "view", 7)]
    assert activity == [("2026-01-05", 1, "rep", 2), ("2026-01-12", 1, "rep", 4)]
    assert per_kind == [("2026-01-11", "view", 2), ("2026-01-12", "view", 7), ("2026-01-18", "download", 1)]
