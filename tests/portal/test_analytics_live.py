"""Analytics up to the minute: a use shows on every dashboard as soon as it is
recorded (read raw on top of the rollups), and is counted once, whether or not
the rollup has run since; the watermark that splits the two, and the migration
that starts it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.analytics.live import consistent
from portal.analytics.rollups import (
    EPOCH,
    LATE_USES,
    raw_uses,
    rebuild_rollups,
    rollup_days,
    rollup_recent,
    watermark,
)
from portal.analytics.tasks import rollup_recent_usage
from portal.extensions import db
from portal.models import AssetVersion, DailyUsage, UsageEvent, utcnow


@pytest.fixture
def library(factories, auth):
    """Item X, 200 days old, viewed once 120 days ago (so an "unused"
    retirement candidate), and Item Y never used; rolled up, so the watermark is
    set and later uses are read raw on top of the rollups."""
    marketer = factories.user("marketer")
    rep = factories.user("rep", team="East", region="EU")
    old = utcnow() - timedelta(days=200)
    x, y = factories.asset(marketer, title="Item X"), factories.asset(marketer, title="Item Y")
    for asset in (x, y):
        asset.created_at = old
        db.session.get(AssetVersion, asset.current_version_id).created_at = old
    db.session.add(UsageEvent(asset_id=x.id, version_id=x.current_version_id, user_id=rep.id, kind="view",
                              occurred_at=utcnow() - timedelta(days=120)))
    db.session.commit()
    rebuild_rollups()
    return {"x": x, "y": y, "rep": auth.token(rep), "staff": auth.token(marketer)}


def _today() -> date:
    return utcnow().date()  # uses are stamped in UTC


def _seen(client, library) -> dict:
    """What the dashboards say about Item X: the asset table over a year (charted
    weekly) and over 30 days, its analytics page, its asset JSON, the overview,
    and the retirement candidates."""
    x, headers = library["x"], library["staff"]
    year = f"since={_today() - timedelta(days=364)}&until={_today()}"

    def table_row(query: str) -> dict:
        items = client.get(f"/api/v1/analytics/assets?{query}", headers=headers).get_json()["items"]
        row = next(item for item in items if item["asset_id"] == x.id)
        return {key: row[key] for key in ("views", "downloads", "reported_uses", "uses", "last_used_at")}

    detail = client.get(f"/api/v1/analytics/assets/{x.id}?{year}", headers=headers).get_json()
    overview = client.get("/api/v1/analytics/overview?days=30", headers=headers).get_json()
    weekly = client.get(f"/api/v1/analytics/overview?{year}", headers=headers).get_json()
    candidates = client.get("/api/v1/analytics/retirement-candidates?unused_days=90&per_page=100",
                            headers=headers).get_json()["items"]
    candidate = next((item for item in candidates if item["asset_id"] == x.id), None)
    return {
        "year": table_row(year),
        "month": table_row("days=30"),
        "page": (detail["by_kind"], detail["summary"]["downloads"], detail["series"]["download"][-1],
                 detail["by_team"]),
        "usage": client.get(f"/api/v1/assets/{x.id}", headers=headers).get_json()["usage"],
        "overview": (overview["totals"]["download"], overview["active_reps"], overview["assets_used"]),
        "reps_this_week": (weekly["series"]["active_reps"][-1], overview["series"]["active_reps"][-1]),
        "candidate": candidate and (candidate["last_used_at"], candidate["uses"], candidate["reason_codes"]),
    }


def test_a_download_shows_at_once_and_once_after_the_rollup(client, library):
    before = _seen(client, library)
    assert before["month"]["downloads"] == 0 and before["usage"]["downloads"] == 0
    assert before["candidate"] == ((_today() - timedelta(days=120)).isoformat(), 1, ["unused"])

    x = library["x"]
    assert client.get(f"/api/v1/assets/{x.id}/download", headers=library["rep"]).status_code == 200
    now = _seen(client, library)
    today = _today().isoformat()
    assert now["year"] == {"views": 1, "downloads": 1, "reported_uses": 0, "uses": 2, "last_used_at": today}
    assert now["month"] == {"views": 0, "downloads": 1, "reported_uses": 0, "uses": 1, "last_used_at": today}
    by_kind, summary_downloads, this_week, by_team = now["page"]
    assert (by_kind["view"], by_kind["download"], summary_downloads, this_week) == (1, 1, 1, 1)
    assert by_team == [{"team": "East", "events": 2}]
    assert now["usage"] == {"views": 1, "downloads": 1, "reported": 0, "deck_inclusions": 0}
    assert now["overview"] == (1, 1, 1) and now["reps_this_week"] == (1, 1)
    assert now["candidate"] is None  # used today: not unused any more

    rollup_recent_usage()  # what the queue runs every 15 minutes
    assert db.session.scalar(select(DailyUsage.events).where(
        DailyUsage.asset_id == x.id, DailyUsage.day == _today(), DailyUsage.kind == "download")) == 1
    assert _seen(client, library) == now  # in the rollups now, and no longer read raw: counted once
    rollup_recent()
    rollup_days([_today()])
    assert _seen(client, library) == now

    assert client.get(f"/api/v1/assets/{x.id}/download", headers=library["rep"]).status_code == 200
    again = _seen(client, library)
    assert (again["year"]["downloads"], again["month"]["downloads"], again["usage"]["downloads"]) == (2, 2, 2)
    assert again["overview"] == (2, 1, 1) and again["reps_this_week"] == (1, 1)  # the same rep: once
    rollup_recent_usage()
    assert _seen(client, library) == again


def test_a_backdated_reported_use_counts_on_its_day_at_once_and_after_the_rollup(client, library):
    x, day = library["x"], _today() - timedelta(days=10)
    created = client.post(f"/api/v1/assets/{x.id}/usage", headers=library["rep"],
                          json={"kind": "presented", "outcome": "won", "occurred_on": day.isoformat()})
    assert created.status_code == 201

    def seen() -> tuple:
        detail = client.get(f"/api/v1/analytics/assets/{x.id}?days=30", headers=library["staff"]).get_json()
        points = dict(zip(detail["series"]["labels"], detail["series"]["reported"], strict=True))
        state = _seen(client, library)
        return state["month"], points[day.isoformat()], sum(points.values()), state["usage"]["reported"], \
            state["candidate"]

    month, on_its_day, in_range, usage, candidate = now = seen()
    assert month == {"views": 0, "downloads": 0, "reported_uses": 1, "uses": 1, "last_used_at": day.isoformat()}
    assert (on_its_day, in_range, usage, candidate) == (1, 1, 1, None)
    rollup_recent()
    assert db.session.scalar(select(DailyUsage.events).where(DailyUsage.asset_id == x.id, DailyUsage.day == day,
                                                             DailyUsage.kind == "reported")) == 1
    assert seen() == now


def test_a_use_committed_after_the_rollup_read_its_day_is_rolled_up_next_time(client, library):
    """A use stamped just before the watermark, but saved after the rollup read
    its day (its transaction was still open), is in neither part until the next
    rollup, which rolls its day up again."""
    x = library["x"]
    rollup_recent()
    late = watermark() - timedelta(minutes=1)
    assert late > watermark() - LATE_USES
    db.session.add(UsageEvent(asset_id=x.id, user_id=None, kind="download", occurred_at=late))
    db.session.commit()
    assert _seen(client, library)["usage"]["downloads"] == 0
    rollup_recent()
    assert _seen(client, library)["usage"]["downloads"] == 1
    rollup_recent()
    assert _seen(client, library)["usage"]["downloads"] == 1


def test_a_read_that_a_rollup_overtakes_runs_again(library, client):
    """Rollup rows read after a rollup moved the watermark, plus raw uses from
    the old watermark, would count the uses in between twice: the reader
    notices the watermark moved and reads again."""
    x = library["x"]
    assert client.get(f"/api/v1/assets/{x.id}/download", headers=library["rep"]).status_code == 200
    reads = []

    @consistent
    def downloads(*, mark: datetime) -> int:
        if not reads:
            rollup_recent()  # lands after the reader took the watermark
        rolled = db.session.scalar(select(func.coalesce(func.sum(DailyUsage.events), 0))
                                   .where(DailyUsage.kind == "download"))
        uses = raw_uses(recorded_from=mark)
        raw = db.session.scalar(select(func.count()).select_from(uses).where(uses.c.kind == "download"))
        reads.append(rolled + raw)
        return rolled + raw

    assert downloads() == 1
    assert reads == [2, 1]


def test_before_any_rollup_everything_is_read_raw(client, factories, auth):
    """A new database has no watermark: every use is read raw; the first run of
    the job rolls up everything and sets it."""
    marketer = factories.user("marketer")
    asset = factories.asset(marketer)
    headers = auth.token(marketer)
    assert client.get(f"/api/v1/assets/{asset.id}/download", headers=headers).status_code == 200
    assert watermark() == EPOCH
    assert client.get(f"/api/v1/assets/{asset.id}", headers=headers).get_json()["usage"]["downloads"] == 1
    rollup_recent_usage()
    assert watermark() > EPOCH
    assert client.get(f"/api/v1/assets/{asset.id}", headers=headers).get_json()["usage"]["downloads"] == 1
    listing = client.get("/api/v1/analytics/assets?days=7", headers=headers).get_json()
    assert [item["downloads"] for item in listing["items"] if item["asset_id"] == asset.id] == [1]


@pytest.mark.parametrize("rolled_up", [True, False], ids=["with-rollups", "without"])
def test_the_migration_starts_the_watermark_where_rollups_exist(tmp_path, rolled_up):
    from alembic import command
    from sqlalchemy import create_engine, text

    from portal.database import alembic_config

    engine = create_engine(f"sqlite:///{tmp_path / 'portal.db'}")
    began = utcnow()
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "0006")
            if rolled_up:
                connection.execute(text(
                    "INSERT INTO users (id, email, name, password_hash, role, active, created_at) VALUES "
                    "(1, 'a@example.com', '', 'x', 'rep', 1, '2026-01-01 00:00:00.000000')"))
                connection.execute(text(
                    "INSERT INTO assets (id, title, description, content_type, status, owner_id, created_at, "
                    "updated_at) VALUES (7, 'X', '', 'deck', 'published', 1, '2026-01-01 00:00:00.000000', "
                    "'2026-01-01 00:00:00.000000')"))
                connection.execute(text("INSERT INTO daily_usage (day, asset_id, kind, team, region, events, users) "
                                        "VALUES ('2026-01-12', 7, 'view', '', '', 3, 1)"))
            command.upgrade(config, "0009")
            rows = connection.execute(text("SELECT id, rolled_up_until FROM rollup_watermark")).all()
    finally:
        engine.dispose()
    if rolled_up:
        assert len(rows) == 1 and rows[0][0] == 1
        assert datetime.fromisoformat(rows[0][1]) >= began.replace(microsecond=0)
    else:
        assert rows == []
