"""The marketer reads slide evidence on an item's analytics page: the per-slide chart
is drawn (outcomes, inclusions, skipped visits and buyers' average seconds), the table
says in words how long buyers spend on each slide and how many visits skipped it, and
the page stays within the screen, at 1366x768 and 390x844."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.support.slide_evidence import add_attention, make_evidence_data


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 768}, {"width": 390, "height": 844}])
def test_slide_evidence_with_attention(factories, new_page, viewport):
    data = add_attention(make_evidence_data(factories), factories)
    page = new_page(viewport=viewport)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, data["marketer"].email)
    page.goto(f"/analytics/assets/{data['alpha'].id}")
    table = page.get_by_test_id("slide-evidence-table")
    expect(table).to_be_visible()
    first = page.get_by_test_id("slide-attention").first
    first.scroll_into_view_if_needed()
    expect(first).to_be_visible()
    expect(first).to_contain_text("Buyers spend 40 s on average on this slide. Skipped by 1 of 2 buyer visits.")
    expect(first).to_contain_text("Reps read it 1 min 00 s in all (2 reps).")
    # Chart.js loads at the end of the page: wait for the chart to be drawn, not for a moment.
    page.wait_for_function(
        "() => !!(window.Chart && Chart.getChart(document.getElementById('slide-evidence-chart')))")
    drawn = page.evaluate("""() => {
      const chart = Chart.getChart(document.getElementById('slide-evidence-chart'));
      return {labels: chart.data.datasets.map(d => d.label),
              seconds: chart.data.datasets.find(d => d.yAxisID === 'seconds').data,
              skipped: chart.data.datasets.find(d => d.label.includes('skipped')).data};
    }""")
    assert "Buyers' seconds on average" in drawn["labels"] and drawn["seconds"] == [40, 15]
    assert drawn["skipped"] == [1, 1]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert errors == []
