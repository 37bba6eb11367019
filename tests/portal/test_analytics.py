"""Usage analytics against a small fixed dataset whose numbers are worked out by
hand below: rollups, overview, leaderboards, quadrant, content score, per-asset
evidence, search gaps, CSV exports and the API."""

from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime

import pytest
from sqlalchemy import delete, func, select

from portal.analytics import asset_report, asset_table, overview, search_gaps
from portal.analytics.asset_table import content_score
from portal.analytics.ranges import DateRange, parse_range
from portal.analytics.rollups import rebuild_rollups, rollup_days
from portal.errors import InvalidInput
from portal.extensions import db
from portal.models import (
    Asset,
    AssetUsageTotal,
    AssetVersion,
    DailyActivity,
    DailyUsage,
    Rating,
    ReportedUse,
    SearchLog,
    UsageEvent,
)

WEEK = DateRange(date(2026, 3, 1), date(2026, 3, 7))
TODAY = date(2026, 3, 7)
CREATED = datetime(2026, 1, 1, 9, 0)


def at(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, 0)


@pytest.fixture
def dataset(factories):
    """Reps A (East/EU) and B (West/US), marketer M. Assets X, Y, Z, V in the
    library since 2026-01-01; W retired on 2026-02-01 (outside the library for March).

    In the week 2026-03-01..07:
      X: views A 03-01 (x2), M 03-07; download B 03-02; deck inclusion A 03-03 (slide 2);
         search click B 03-05 (from the "pricing" search); reported use A 03-04 (won)
      Y: view B 03-02; reported use B 03-06 (open)
    Before the week: Z viewed by A on 02-20. V never used.
    Ratings: X 2 and 4 stars (Feb), Y 5 stars (Feb); Z and V unrated.
    """
    a = factories.user("rep", team="East", region="EU", name="Rep A")
    b = factories.user("rep", team="West", region="US", name="Rep B")
    m = factories.user("marketer", name="Marketer M")
    assets = {name: factories.asset(title=f"Item {name}", owner=m) for name in "XYZVW"}
    for asset in assets.values():
        asset.created_at = CREATED
        db.session.get(AssetVersion, asset.current_version_id).created_at = CREATED
    w = assets["W"]
    w.status, w.retired_at = "retired", datetime(2026, 2, 1)
    x, y, z = assets["X"], assets["Y"], assets["Z"]
    db.session.flush()
    pricing = SearchLog(user_id=b.id, query="pricing", normalized_query="pricing", result_count=5, created_at=at(5, 9))
    db.session.add(pricing)
    db.session.flush()

    def event(asset, user, kind, when, **extra):
        db.session.add(UsageEvent(asset_id=asset.id, version_id=asset.current_version_id, user_id=user.id,
                                  kind=kind, occurred_at=when, **extra))

    event(x, a, "view", at(1, 10))
    event(x, a, "view", at(1, 11))
    event(x, b, "download", at(2))
    event(x, a, "deck_inclusion", at(3), page_number=2, deck_id=1)
    event(x, b, "search_click", at(5), search_log_id=pricing.id)
    event(x, m, "view", at(7, 23))
    event(y, b, "view", at(2))
    event(z, a, "view", at(20, month=2))
    db.session.add_all([
        ReportedUse(asset_id=x.id, user_id=a.id, kind="presented", outcome="won", occurred_on=date(2026, 3, 4)),
        ReportedUse(asset_id=y.id, user_id=b.id, kind="emailed", outcome="open", occurred_on=date(2026, 3, 6)),
        Rating(asset_id=x.id, user_id=a.id, stars=2, created_at=datetime(2026, 2, 3)),
        Rating(asset_id=x.id, user_id=b.id, stars=4, created_at=datetime(2026, 2, 10)),
        Rating(asset_id=y.id, user_id=a.id, stars=5, created_at=datetime(2026, 2, 11)),
    ])
    searches = [("pricing mars", 0, at(2)), ("pricing mars", 0, at(3)), ("roadmap", 0, at(5)),
                ("battlecard", 3, at(6)), ("old query", 0, at(1, month=2))]
    db.session.add_all(SearchLog(user_id=a.id, query=q, normalized_query=q, result_count=n, created_at=when)
                       for q, n, when in searches)
    db.session.commit()
    rebuild_rollups()
    return {"a": a, "b": b, "m": m, **assets}


# --- rollups ----------------------------------------------------------------------------

def test_rollups_hold_the_hand_counted_numbers(dataset):
    x, a = dataset["X"], dataset["a"]
    rows = {(r.day, r.kind, r.team): (r.events, r.users)
            for r in db.session.scalars(select(DailyUsage).where(DailyUsage.asset_id == x.id))}
    assert rows == {
        (date(2026, 3, 1), "view", "East"): (2, 1),
        (date(2026, 3, 2), "download", "West"): (1, 1),
        (date(2026, 3, 3), "deck_inclusion", "East"): (1, 1),
        (date(2026, 3, 4), "reported", "East"): (1, 1),
        (date(2026, 3, 5), "search_click", "West"): (1, 1),
        (date(2026, 3, 7), "view", ""): (1, 1),
    }
    activity = {(r.day, r.user_id): (r.role, r.events) for r in db.session.scalars(select(DailyActivity))}
    assert activity[(date(2026, 3, 1), a.id)] == ("rep", 2)
    assert activity[(date(2026, 3, 7), dataset["m"].id)] == ("marketer", 1)
    assert len(activity) == 8  # A: 02-20, 03-01, 03-03, 03-04; B: 03-02, 03-05, 03-06; M: 03-07
    total = db.session.get(AssetUsageTotal, x.id)
    assert (total.events, total.views, total.downloads, total.deck_inclusions, total.search_clicks,
            total.reported_uses) == (7, 3, 1, 1, 1, 1)
    assert (total.first_used_on, total.last_used_on) == (date(2026, 3, 1), date(2026, 3, 7))
    assert db.session.get(AssetUsageTotal, dataset["V"].id) is None


def test_rolling_a_day_again_is_idempotent_and_follows_deletions(dataset):
    x = dataset["X"]
    before = db.session.scalar(select(func.sum(DailyUsage.events)))
    rollup_days([date(2026, 3, 1), date(2026, 3, 7)])
    assert db.session.scalar(select(func.sum(DailyUsage.events))) == before
    db.session.execute(delete(UsageEvent).where(UsageEvent.asset_id == x.id,
                                                UsageEvent.occurred_at >= at(7, 0)))
    db.session.commit()
    report = rollup_days([date(2026, 3, 7)])
    assert report.days == 1 and report.assets_touched == 1
    assert db.session.get(AssetUsageTotal, x.id).last_used_on == date(2026, 3, 5)
    assert db.session.get(AssetUsageTotal, x.id).events == 6


def test_rollup_command_rebuilds_from_raw_events(dataset, runner):
    db.session.execute(delete(DailyUsage))
    db.session.execute(delete(AssetUsageTotal))
    db.session.commit()
    result = runner.invoke(args=["rollup"])
    assert result.exit_code == 0, result.output
    assert "Rolled up 16 days" in result.output  # 2026-02-20 .. 2026-03-07
    assert db.session.get(AssetUsageTotal, dataset["X"].id).events == 7
    bad = runner.invoke(args=["rollup", "--since", "2026-03-05", "--until", "2026-03-01"])
    assert bad.exit_code != 0 and "after --until" in bad.output


def test_the_scheduled_rollup_covers_today(app, factories):
    from portal.analytics.tasks import rollup_recent_usage
    from portal.models import utcnow

    assert "rollup_recent_usage" in app.extensions["collateral_queue"].tasks  # on the queue's schedule
    rep, asset = factories.user("rep"), factories.asset()
    db.session.add(UsageEvent(asset_id=asset.id, user_id=rep.id, kind="view", occurred_at=utcnow()))
    db.session.commit()
    rollup_recent_usage()
    assert db.session.get(AssetUsageTotal, asset.id).events == 1


# --- overview ---------------------------------------------------------------------------

def test_overview_numbers(dataset):
    data = overview.overview(WEEK)
    assert data.totals == {"view": 4, "download": 1, "search_click": 1, "deck_inclusion": 1, "reported": 2}
    assert (data.active_reps, data.active_users) == (2, 3)
    assert (data.library_size, data.assets_used, data.used_share) == (4, 2, 50.0)  # X, Y of X, Y, Z, V
    assert data.labels[0] == "2026-03-01" and len(data.labels) == 7
    assert data.series["view"] == [2, 1, 0, 0, 0, 0, 1]
    assert data.series["reported"] == [0, 0, 0, 1, 0, 1, 0]
    assert data.series["active_reps"] == [1, 1, 1, 1, 1, 1, 0]


def test_long_ranges_chart_weekly_with_distinct_reps(dataset):
    window = DateRange(date(2025, 12, 1), date(2026, 3, 7))  # 97 days
    data = overview.overview(window)
    assert window.weekly
    assert data.labels[-1] == "2026-03-02"  # Monday of the last week
    assert data.series["active_reps"][-1] == 2  # A and B, not 5 rep-days
    assert data.series["active_reps"][-2] == 1  # week of 2026-02-23: A on 03-01 (a Sunday)
    assert data.series["view"][-1] == 2  # Y on 03-02, M on 03-07


# --- asset table: leaderboards, quadrant, score -------------------------------------------

def test_content_score_formula():
    # X: used today (35), 7 uses: 30*ln(8)/ln(101) = 13.52, 3.0 stars: 12.5, file 65 days old: 10*0.5**(65/365) = 8.84
    assert content_score(last_used_on=TODAY, uses=7, rating_average=3.0, file_age_days=65, today=TODAY) == 70
    assert content_score(last_used_on=None, uses=0, rating_average=None, file_age_days=0, today=TODAY) == 23
    assert content_score(last_used_on=TODAY, uses=500, rating_average=5.0, file_age_days=0, today=TODAY) == 100
    assert content_score(last_used_on=None, uses=0, rating_average=1.0, file_age_days=10_000, today=TODAY) == 0


def test_asset_table_leaderboards_and_quadrant(dataset):
    table = asset_table.asset_table(WEEK, today=TODAY)
    rows = {row.title: row for row in table.rows}
    assert set(rows) == {"Item X", "Item Y", "Item Z", "Item V"}  # W was retired before the week
    assert rows["Item X"].counts == {"view": 3, "download": 1, "search_click": 1, "deck_inclusion": 1, "reported": 1}
    assert (rows["Item X"].uses, rows["Item Y"].uses, rows["Item Z"].uses) == (7, 2, 0)
    assert (rows["Item X"].rating_average, rows["Item X"].rating_count) == (3.0, 2)
    assert rows["Item Z"].last_used_on == date(2026, 2, 20)
    # Y: last used 03-06: 35*0.5**(1/30) = 34.20; 30*ln(3)/ln(101) = 7.14; 25; 8.84 -> 75
    # Z: 15 days: 35*0.5**0.5 = 24.75; 0; unrated 12.5; 8.84 -> 46.   V: 0; 0; 12.5; 8.84 -> 21
    assert {title: row.score for title, row in rows.items()} == {
        "Item Y": 75, "Item X": 70, "Item Z": 46, "Item V": 21}
    assert [row.title for row in table.rows] == ["Item Y", "Item X", "Item Z", "Item V"]
    # Used from ceil(median(7, 2)) = 5 uses; liked from 3.5 stars.
    assert table.used_threshold == 5
    assert table.quadrant_of == {dataset["X"].id: "fix", dataset["Y"].id: "promote_better"}
    boards = {name: [row.title for row in rows] for name, rows in table.leaderboards().items()}
    assert boards == {
        "most_used": ["Item X", "Item Y"],
        "least_used": ["Item Z", "Item V", "Item Y", "Item X"],
        "never_used": ["Item V"],
        "highest_rated": ["Item Y", "Item X"],
        "lowest_rated": ["Item X", "Item Y"],
        "low_rated_most_used": ["Item X"],
    }


# --- one asset ----------------------------------------------------------------------------

def test_asset_analytics_breakdowns(dataset):
    data = asset_report.asset_analytics(dataset["X"], WEEK, today=TODAY)
    assert data.by_kind == {"view": 3, "download": 1, "search_click": 1, "deck_inclusion": 1, "reported": 1}
    assert data.by_team == [("East", 4), ("West", 2), ("(no team)", 1)]
    assert data.by_region == [("EU", 4), ("US", 2), ("(no region)", 1)]
    assert data.outcomes == {"won": 1, "lost": 0, "open": 0}
    assert data.slides == [(1, 2, 1)]
    assert data.rating_trend == [("2026-02", 3.0, 2)]
    assert data.series["view"] == [2, 0, 0, 0, 0, 0, 1]
    assert [(who, what) for _, who, _, what in data.recent][:2] == [("Marketer M", "Views"),
                                                                   ("Rep B", "Search click-throughs")]
    assert data.row.score == 70


# --- search gaps --------------------------------------------------------------------------

def test_search_gaps_and_unclicked_searches(dataset):
    gaps = search_gaps.search_gaps(WEEK)
    assert [(g.query, g.searches, g.last_searched_at) for g in gaps] == [
        ("pricing mars", 2, at(3)), ("roadmap", 1, at(5))]
    unclicked = search_gaps.unclicked_searches(WEEK)
    assert [(g.query, g.searches) for g in unclicked] == [("battlecard", 1)]


# --- ranges -------------------------------------------------------------------------------

def test_parse_range_defaults_and_errors():
    assert parse_range({}, today=TODAY) == DateRange(date(2026, 2, 6), TODAY)
    assert parse_range({"days": "7"}, today=TODAY) == WEEK
    assert parse_range({"since": "2026-03-01", "until": "2026-03-07"}) == WEEK
    for args in ({"since": "yesterday"}, {"since": "2026-03-08", "until": "2026-03-07"}, {"days": "0"},
                 {"days": "x"}, {"since": "2020-01-01", "until": "2026-01-01"}):
        with pytest.raises(InvalidInput):
            parse_range(args, today=TODAY)


# --- pages, CSV and API ----------------------------------------------------------------------

RANGE = "since=2026-03-01&until=2026-03-07"


def test_pages_show_the_numbers(dataset, client, auth, factories):
    auth.login(factories.user("enablement"))
    page = client.get(f"/analytics/?{RANGE}").get_data(as_text=True)
    assert "50.0%" in page and "of collateral was used" in page and "2 of 4 items" in page
    assert "vendor/chart-4.6.1.umd.min.js" in page
    content = client.get(f"/analytics/content?{RANGE}").get_data(as_text=True)
    assert "How the content score works" in content and "Item X" in content
    asset_page = client.get(f"/analytics/assets/{dataset['X'].id}?{RANGE}").get_data(as_text=True)
    assert "East" in asset_page and "Slides reused in decks" in asset_page
    gaps = client.get(f"/analytics/search-gaps?{RANGE}").get_data(as_text=True)
    assert "pricing mars" in gaps and "battlecard" in gaps and "old query" not in gaps
    assert client.get("/analytics/?since=garbage").status_code == 400
    assert client.get("/analytics/assets/999999").status_code == 404
    assert client.get("/analytics/export/nothing.csv").status_code == 404
    assert client.get("/static/vendor/chart-4.6.1.umd.min.js").status_code == 200


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_every_table_exports_to_csv(dataset, client, auth, factories):
    auth.login(factories.user("marketer"))
    overview = _csv(client.get(f"/analytics/export/overview.csv?{RANGE}"))
    assert overview[0][0] == "period" and overview[1][:2] == ["2026-03-01", "2"] and len(overview) == 8
    assets = _csv(client.get(f"/analytics/export/assets.csv?{RANGE}"))
    header, first = assets[0], dict(zip(assets[0], assets[1], strict=True))
    assert header[:2] == ["asset_id", "title"] and first["title"] == "Item Y" and first["score"] == "75"
    never = _csv(client.get(f"/analytics/export/never-used.csv?{RANGE}"))
    assert [row[1] for row in never[1:]] == ["Item V"]
    gaps = _csv(client.get(f"/analytics/export/search-gaps.csv?{RANGE}"))
    assert gaps[1:] == [["pricing mars", "2", "2026-03-03T10:00:00"], ["roadmap", "1", "2026-03-05T10:00:00"]]
    unclicked = _csv(client.get(f"/analytics/export/unclicked-searches.csv?{RANGE}"))
    assert [row[0] for row in unclicked[1:]] == ["battlecard"]
    per_asset = _csv(client.get(f"/analytics/assets/{dataset['X'].id}/usage.csv?{RANGE}"))
    assert per_asset[1] == ["2026-03-01", "2", "0", "0", "0", "0"]


def test_csv_cells_that_look_like_formulas_stay_text(dataset, client, auth, factories):
    dataset["X"].title = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    auth.login(factories.user("admin"))
    rows = _csv(client.get(f"/analytics/export/assets.csv?{RANGE}"))
    titles = [row[1] for row in rows[1:]]
    assert "'=HYPERLINK(\"http://evil\")" in titles


def test_api_returns_the_same_numbers(dataset, client, auth, factories):
    headers = auth.token(factories.user("enablement"))
    overview = client.get(f"/api/v1/analytics/overview?{RANGE}", headers=headers).get_json()
    assert overview["totals"]["view"] == 4 and overview["active_reps"] == 2
    assert overview["used_share_percent"] == 50.0 and overview["series"]["view"] == [2, 1, 0, 0, 0, 0, 1]
    listing = client.get(f"/api/v1/analytics/assets?{RANGE}&sort=uses", headers=headers).get_json()
    assert listing["total"] == 4 and listing["used_threshold"] == 5
    x = listing["items"][0]
    assert {k: x[k] for k in ("title", "views", "downloads", "reported_uses", "deck_inclusions", "rating_average",
                              "rating_count", "last_used_at", "quadrant")} == {
        "title": "Item X", "views": 3, "downloads": 1, "reported_uses": 1, "deck_inclusions": 1,
        "rating_average": 3.0, "rating_count": 2, "last_used_at": "2026-03-07", "quadrant": "fix"}
    assert isinstance(x["score"], int)
    boards = client.get(f"/api/v1/analytics/leaderboards?{RANGE}", headers=headers).get_json()
    assert [item["title"] for item in boards["never_used"]] == ["Item V"]
    detail = client.get(f"/api/v1/analytics/assets/{dataset['X'].id}?{RANGE}", headers=headers).get_json()
    assert detail["outcomes"]["won"] == 1 and detail["slides"] == [{"version": 1, "slide": 2, "deck_inclusions": 1}]
    assert detail["by_team"][0] == {"team": "East", "events": 4}
    gaps = client.get("/api/v1/analytics/search-gaps?since=2026-03-01&until=2026-03-07", headers=headers).get_json()
    assert gaps["items"] == [
        {"query": "pricing mars", "searches": 2, "last_searched_at": "2026-03-03T10:00:00Z"},
        {"query": "roadmap", "searches": 1, "last_searched_at": "2026-03-05T10:00:00Z"}]
    unclicked = client.get(f"/api/v1/analytics/unclicked-searches?{RANGE}", headers=headers).get_json()
    assert [item["query"] for item in unclicked["items"]] == ["battlecard"]


def test_api_rejects_bad_input_and_wrong_roles(dataset, client, auth, factories):
    headers = auth.token(factories.user("marketer"))
    bad = client.get("/api/v1/analytics/assets?sort=popularity", headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["message"].startswith("sort is one of")
    assert client.get("/api/v1/analytics/overview?until=31-12-2026", headers=headers).status_code == 400
    assert client.get("/api/v1/analytics/assets/999999", headers=headers).status_code == 404
    rep = auth.token(factories.user("rep"))
    assert client.get("/api/v1/analytics/overview", headers=rep).status_code == 403
    assert client.get("/api/v1/analytics/overview").status_code == 401


def test_retired_assets_count_for_their_time_in_the_library(dataset):
    # W was retired on 2026-02-01: in January it was part of the library.
    january = overview.overview(DateRange(date(2026, 1, 1), date(2026, 1, 31)))
    assert january.library_size == 5 and january.assets_used == 0
    table = asset_table.asset_table(DateRange(date(2026, 1, 1), date(2026, 1, 31)), include_retired=True)
    assert "Item W" in {row.title for row in table.rows}
    assert math.isclose(january.used_share, 0.0)
    assert db.session.get(Asset, dataset["W"].id).status == "retired"
