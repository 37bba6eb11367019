"""Slide-level evidence on the per-asset analytics page: deck inclusions per slide and
per group of copies, outcomes of the opportunities the slide was used for, a Wilson
interval and a plain small-sample warning; table, chart data and CSV; who may see it."""

from __future__ import annotations

import csv
import io

import pytest

from portal.decks.evidence import wilson
from portal.extensions import db
from tests.support.slide_evidence import add_attention, deck_of_slides, make_evidence_data


def test_wilson_interval_known_values():
    low, high = wilson(5, 10)
    assert round(low, 4) == 0.2366 and round(high, 4) == 0.7634
    low, high = wilson(0, 3)
    assert low == 0.0 and 0.56 < high < 0.57
    assert wilson(0, 0) is None


@pytest.fixture
def evidence_data(factories):
    return make_evidence_data(factories)


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


@pytest.fixture
def attention_data(evidence_data, factories):
    return add_attention(evidence_data, factories)


def test_attention_per_slide_and_group(attention_data):
    from portal.decks.evidence import slide_evidence

    first, second = slide_evidence(attention_data["alpha"])
    assert (first.attention.reader_seconds, first.attention.readers) == (60.0, 2)
    assert (first.group_attention.reader_seconds, first.group_attention.readers) == (75.0, 3)
    assert (first.attention.buyer_seconds, first.attention.buyer_visits, first.attention.buyer_views) == (40, 1, 1)
    assert (first.attention.counted_visits, first.attention.skipped) == (2, 1)
    assert first.attention.buyer_sentence == \
        "Buyers spend 40 s on average on this slide. Skipped by 1 of 2 buyer visits."
    assert first.attention.reader_sentence == "Reps read it 1 min 00 s in all (2 reps)."
    group = first.group_attention
    assert (group.buyer_seconds, group.buyer_visits, group.counted_visits, group.skipped) == (70, 2, 3, 1)
    assert group.buyer_average == 35.0
    assert (second.attention.buyer_visits, second.attention.buyer_average) == (2, 15.0)
    assert (second.attention.counted_visits, second.attention.skipped) == (3, 1)
    assert second.attention.reader_sentence == "No rep has read it in the viewer yet."


def test_attention_on_page_csv_and_api(client, auth, attention_data):
    alpha = attention_data["alpha"]
    auth.login(attention_data["marketer"])
    page = client.get(f"/analytics/assets/{alpha.id}").get_data(as_text=True)
    assert "Buyers spend 40 s on average on this slide. Skipped by 1 of 2 buyer visits." in page
    assert "Buyers spend 35 s on average on this slide. Skipped by 1 of 3 buyer visits." in page  # its group
    rows = list(csv.DictReader(io.StringIO(client.get(f"/analytics/assets/{alpha.id}/slides.csv")
                                           .get_data(as_text=True))))
    assert (rows[0]["buyer_average_seconds"], rows[0]["buyer_visits_skipped"], rows[0]["readers"]) == ("40.0", "1", "2")
    assert (rows[0]["group_buyer_visits_shown"], rows[0]["group_reader_seconds"]) == ("3", "75.0")
    headers = auth.token(attention_data["marketer"])
    answer = client.get(f"/api/v1/analytics/assets/{alpha.id}/slides", headers=headers).get_json()
    first = answer["items"][0]
    assert first["attention"]["buyer_average_seconds"] == 40.0 and first["attention"]["buyer_visits_skipped"] == 1
    assert first["group_attention"]["readers"] == 3 and first["other_decks"] == 1
    assert first["outcomes"]["won"] == 1 and round(first["outcomes"]["interval_95"][0], 2) == 0.09
    assert client.get("/api/v1/analytics/assets/987654/slides", headers=headers).status_code == 404
    rep = auth.token(attention_data["rep"])
    assert client.get(f"/api/v1/analytics/assets/{alpha.id}/slides", headers=rep).status_code == 403


def test_a_thousand_slides_cost_a_bounded_number_of_queries(app, factories):
    """Every figure is grouped in SQL a chunk at a time: statements do not grow with the slides."""
    from sqlalchemy import event

    from portal.decks.evidence import slide_evidence

    marketer = factories.user("marketer")
    statements = {}
    for count in (10, 1000):
        asset, pages = deck_of_slides(factories, marketer, f"Deck of {count}", count)
        for page in pages:
            page.group_id = page.id
        db.session.commit()
        db.session.expire_all()
        executed = []

        def count_statement(*args, executed=executed):
            executed.append(1)

        event.listen(db.engine, "before_cursor_execute", count_statement)
        try:
            rows = slide_evidence(db.session.get(type(asset), asset.id))
        finally:
            event.remove(db.engine, "before_cursor_execute", count_statement)
        assert len(rows) == count
        statements[count] = len(executed)
    # Two chunks of 500 slides instead of one: a few more statements, never one per slide.
    assert statements[1000] <= statements[10] + 12, statements
