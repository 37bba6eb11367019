"""A rep uses an item and searches for something that is not there; after the
scheduled rollup, the enablement lead sees it on the dashboards: the numbers,
drawn charts, the item among the most used, its page, a CSV, and the search gap."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from playwright.sync_api import expect

from portal.analytics.tasks import rollup_recent_usage
from tests.browser.conftest import sign_in


def test_usage_reaches_the_dashboards(app, factories, new_page):
    marketer = factories.user("marketer")
    rep = factories.user("rep", name="Rita Rep", team="East", region="EMEA")
    lead = factories.user("enablement")
    asset = factories.asset(marketer, title="Healthcare pricing deck")
    factories.asset(marketer, title="Dusty brochure")

    page = new_page()
    sign_in(page, rep.email)
    page.goto(f"/assets/{asset.id}")
    with page.expect_download():
        page.get_by_role("link", name="Download").first.click()
    page.goto("/search?q=zeppelin+tariffs")
    expect(page.get_by_test_id("no-results")).to_be_visible()

    with app.app_context():
        rollup_recent_usage()  # what the queue runs every 15 minutes

    page = new_page()
    sign_in(page, lead.email)
    page.get_by_role("link", name="Analytics").click()
    expect(page.get_by_test_id("active-reps")).to_contain_text("1 active reps")
    expect(page.get_by_test_id("total-view")).to_contain_text("1 views")
    expect(page.get_by_test_id("total-download")).to_contain_text("1 downloads")
    expect(page.get_by_test_id("used-share")).to_contain_text("50.0% of collateral was used")
    # Chart.js loads at the end of the page: wait for the chart to be drawn, not for a moment.
    page.wait_for_function("() => !!(window.Chart && Chart.getChart(document.getElementById('usage-chart')))")

    page.get_by_role("link", name="Content and scores").click()
    expect(page.get_by_test_id("board-most_used")).to_contain_text("Healthcare pricing deck")
    expect(page.get_by_test_id("board-never_used")).to_contain_text("Dusty brochure")
    page.wait_for_function("() => !!(window.Chart && Chart.getChart(document.getElementById('quadrant-chart')))")
    page.get_by_test_id("board-most_used").get_by_role("link", name="Healthcare pricing deck").click()
    expect(page.get_by_test_id("by-team")).to_contain_text("East")
    expect(page.get_by_test_id("recent")).to_contain_text("Rita Rep")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0][:3] == ["period", "Views", "Downloads"] and sum(int(r[1]) for r in rows[1:]) == 1

    page.get_by_role("link", name="Search gaps").click()
    expect(page.get_by_test_id("search-gaps")).to_contain_text("zeppelin tariffs")
