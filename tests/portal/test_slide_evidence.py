"""Slide-level evidence on the per-asset analytics page: deck inclusions per slide and
per group of copies, outcomes of the opportunities the slide was used for, a Wilson
interval and a plain small-sample warning; table, chart data and CSV; who may see it."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from portal.decks.evidence import wilson
from portal.extensions import db
from portal.models import Page, ReportedUse, UsageEvent


def test_wilson_interval_known_values():
    low, high = wilson(5, 10)
    assert round(low, 4) == 0.2366 and round(high, 4) == 0.7634
    low, high = wilson(0, 3)
    assert low == 0.0 and 0.56 < high < 0.57
    assert wilson(0, 0) is None


def _slides(factories, owner, title: str, count: int, group_base: int | None = None):
    asset = factories.asset(owner, title=title)
    version = asset.current_version
    version.kind = "pptx"
    pages = [Page(version_id=version.id, asset_id=asset.id, number=n, title=f"{title} slide {n}")
             for n in range(1, count + 1)]
    db.session.add_all(pages)
    db.session.commit()
    return asset, pages


@pytest.fixture
def evidence_data(factories):
    marketer = factories.user("marketer")
    reps = [factories.user("rep") for _ in range(3)]
    alpha, pa = _slides(factories, marketer, "Alpha", 2)
    beta, pb = _slides(factories, marketer, "Beta", 1)
    # Alpha slide 1 and Beta slide 1 are copies of one slide (one lineage group).
    pa[0].group_id = pb[0].group_id = pa[0].id
    pa[1].group_id = pa[1].id
    today = date.today()

    def include(rep, page, days_ago=5):
        db.session.add(UsageEvent(asset_id=page.asset_id, version_id=page.version_id, user_id=rep.id,
                                  kind="deck_inclusion", page_number=page.number, deck_id=1))

    def report(rep, asset, opportunity, outcome, days_ago=0):
        db.session.add(ReportedUse(asset_id=asset.id, user_id=rep.id, kind="presented", account="Acme",
                                   opportunity=opportunity, outcome=outcome,
                                   occurred_on=today - timedelta(days=days_ago)))

    include(reps[0], pa[0])
    include(reps[0], pa[0])  # twice: two inclusions, one opportunity
    include(reps[1], pa[0])
    include(reps[2], pb[0])  # the copy in Beta
    report(reps[0], alpha, "Renewal", "won")
    report(reps[0], alpha, "Renewal", "won")  # the same opportunity reported twice counts once
    report(reps[1], alpha, "Expansion", "lost")
    report(reps[1], alpha, "Old deal", "won", days_ago=30)  # before the slide was used: not counted
    report(reps[2], beta, "Pilot", "open")
    db.session.commit()
    return {"marketer": marketer, "rep": reps[0], "alpha": alpha, "pa": pa}


def test_per_slide_and_per_group_counts(client, auth, evidence_data):
    from portal.decks.evidence import slide_evidence

    rows = slide_evidence(evidence_data["alpha"])
    first, second = rows
    assert (first.inclusions, first.group_inclusions, first.copies) == (3, 4, 1)
    assert (first.slide.won, first.slide.lost, first.slide.open) == (1, 1, 0)
    assert (first.group.won, first.group.lost, first.group.open) == (1, 1, 1)
    assert first.slide.small_sample and "Only 2 won or lost deals" in first.slide.warning
    assert (second.inclusions, second.slide.decided) == (0, 0)
    assert "No won or lost deal yet" in second.slide.warning


def test_analytics_page_table_chart_and_csv(client, auth, evidence_data):
    auth.login(evidence_data["marketer"])
    alpha = evidence_data["alpha"]
    page = client.get(f"/analytics/assets/{alpha.id}").get_data(as_text=True)
    assert 'data-testid="slide-evidence-table"' in page and 'id="slide-evidence-data"' in page
    assert "50% (9–91%)" in page and 'data-testid="small-sample"' in page
    response = client.get(f"/analytics/assets/{alpha.id}/slides.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0]["deck_inclusions"] == "3" and rows[0]["group_deck_inclusions"] == "4"
    assert rows[0]["win_rate"] == "50%" and rows[0]["win_rate_low_95"] == "9%" and rows[0]["group_open"] == "1"
    assert client.get("/analytics/assets/987654/slides.csv").status_code == 404
    auth.logout()
    auth.login(evidence_data["rep"])
    assert client.get(f"/analytics/assets/{alpha.id}/slides.csv").status_code == 403
