"""Slide search shows each lineage group once, over the whole result (issue 18):
after a deck copying a slide is processed, a search for that slide's words finds
one slide with the other copy under `copies`, and `total` counts slides, not
copies; a regrouping reaches the index through the index outbox, one row per
asset whose slides moved."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.decks.lineage import group_pages
from portal.extensions import db
from portal.models import IndexOutbox, Page
from tests.conftest import run_queued
from tests.support.lineage_decks import base_slides, write_deck


@pytest.fixture
def app(embedded_app):
    return embedded_app  # a real queue, run by the test: what waits in the outbox can be seen


def _deck(factories, owner, tmp_path, slides: list[dict], title: str):
    path = write_deck(str(tmp_path / f"{title}.pptx"), slides)
    with open(path, "rb") as stream:
        asset = factories.asset(owner, title=title, content_type="deck", filename=f"{title}.pptx",
                                content=stream.read())
    run_queued()  # processing, grouping, then the index drain
    db.session.refresh(asset)
    assert asset.current_version.kind == "pptx", asset.current_version.error
    return asset, list(db.session.scalars(select(Page).where(Page.version_id == asset.current_version_id)
                                          .order_by(Page.number)))


def _search(client, headers, query: str, **params) -> dict:
    answer = client.get("/api/v1/search/pages", query_string={"q": query, **params}, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def test_a_copied_slide_is_one_hit_with_its_copies_and_follows_regrouping(client, auth, factories, tmp_path):
    base = base_slides(8)
    owner = factories.user("marketer")
    headers = auth.token(factories.user("rep"))
    alpha, pa = _deck(factories, owner, tmp_path, base[:4], "Alpha")
    words = f'"{" ".join(base[0]["bullets"][0].split()[:5])}"'
    assert [item["page_id"] for item in _search(client, headers, words)["items"]] == [pa[0].id]

    beta, pb = _deck(factories, owner, tmp_path, [base[0], base[5]], "Beta")
    assert pb[0].group_id == pa[0].group_id
    found = _search(client, headers, words)
    assert found["total"] == 1  # one slide, in two decks
    assert [(item["page_id"], [c["page_id"] for c in item["copies"]]) for item in found["items"]] == \
        [(pb[0].id, [pa[0].id])]  # the newest copy shown, the other one click away
    assert found["items"][0]["copies"][0]["asset_title"] == "Alpha"
    assert _search(client, headers, words, page=2, per_page=1)["items"] == []

    # Gamma holds the slide twice. Then split off Beta's and Gamma's copies (as if grouped
    # apart, before a slide bridged them): two groups, two hits.
    gamma, pg = _deck(factories, owner, tmp_path, [base[0], base[6], base[0]], "Gamma")
    assert _search(client, headers, words)["total"] == 1
    for copy in (pb[0], pg[0], pg[2]):
        copy.group_id = pb[0].id
    db.session.commit()
    run_queued()
    assert _search(client, headers, words)["total"] == 2

    # Regrouping Alpha's slide merges the groups again: the index hears of it through the
    # outbox, once per asset whose indexed slides moved (Gamma's two copies: one row).
    db.session.execute(IndexOutbox.__table__.delete())
    db.session.commit()
    group_pages([pa[0].id])
    assert sorted(db.session.scalars(select(IndexOutbox.asset_id))) == [beta.id, gamma.id]
    run_queued()
    found = _search(client, headers, words)
    assert found["total"] == 1
    item = found["items"][0]
    assert item["page_id"] == pg[2].id  # the newest deck's copy (its later slide on a tie)
    assert sorted(c["page_id"] for c in item["copies"]) == sorted([pa[0].id, pb[0].id, pg[0].id])
