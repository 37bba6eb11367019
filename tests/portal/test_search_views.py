"""Search through the portal: real uploaded decks, processed and indexed by the
queue (inline in tests), searched by page and API, with logging and visibility."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from assets.sample_files import make_pptx
from portal.extensions import db
from portal.models import SearchLog, UsageEvent


def deck_bytes(tmp_path: Path, name: str, slides: list[dict]) -> bytes:
    return Path(make_pptx(str(tmp_path / name), slides)).read_bytes()


@pytest.fixture
def library(factories, tmp_path):
    marketer = factories.user("marketer")
    pricing = factories.asset(marketer, title="Pricing overview - Healthcare", content_type="deck", product="Care",
                              region="NA", tags="pricing, healthcare", filename="pricing.pptx",
                              content=deck_bytes(tmp_path, "p.pptx", [
                                  {"title": "Hospital pricing tiers", "bullets": ["Per-bed pricing"], "notes": "Ask for the bed count"},
                                  {"title": "Return on investment", "bullets": ["Payback in nine months"]},
                              ]))
    security = factories.asset(marketer, title="Security overview", content_type="datasheet", product="Platform",
                               region="EMEA", tags="security", filename="security.pptx",
                               content=deck_bytes(tmp_path, "s.pptx", [
                                   {"title": "Encryption everywhere", "bullets": ["SOC 2 Type II"]},
                               ]))
    return {"marketer": marketer, "pricing": pricing, "security": security}


def test_processing_feeds_pages_and_index(client, auth, factories, library):
    headers = auth.token(factories.user("rep"))
    pages = client.get(f"/api/v1/assets/{library['pricing'].id}/pages", headers=headers).get_json()
    assert [p["title"] for p in pages["items"]] == ["Hospital pricing tiers", "Return on investment"]
    assert pages["items"][0]["notes"] == "Ask for the bed count"
    found = client.get("/api/v1/search?q=pricing+healthcare", headers=headers).get_json()
    assert [item["id"] for item in found["items"]] == [library["pricing"].id]
    item = found["items"][0]
    assert item["score"] > 0 and any("<mark>" in h for h in item["highlights"])
    assert found["facets"]["content_type"] == {"deck": 1}
    assert set(found) >= {"items", "total", "page", "per_page", "facets", "suggestion"}


def test_slide_search_api_and_page(client, auth, factories, library):
    rep = factories.user("rep")
    headers = auth.token(rep)
    slides = client.get("/api/v1/search/pages?q=payback", headers=headers).get_json()
    assert len(slides["items"]) == 1
    slide = slides["items"][0]
    assert (slide["asset_id"], slide["number"], slide["title"]) == (library["pricing"].id, 2, "Return on investment")
    assert set(slide) >= {"page_id", "asset_title", "highlights", "thumbnail_url", "score"}
    auth.login(rep)
    html = client.get("/search?q=payback&tab=slides").get_data(as_text=True)
    assert "Return on investment" in html and 'data-page-id="' in html and "Add to deck" in html


def test_pdf_pages_are_found_but_cannot_go_into_a_deck(client, auth, factories, tmp_path):
    from assets.sample_files import make_pdf

    pdf = Path(make_pdf(str(tmp_path / "brochure.pdf"), [{"title": "Brochure", "lines": ["zeppelin tariffs"]}]))
    factories.asset(title="Brochure", filename="brochure.pdf", content=pdf.read_bytes())
    auth.login(factories.user("rep"))
    html = client.get("/search?q=zeppelin&tab=slides").get_data(as_text=True)
    assert 'data-page-id="' in html and "Add to deck" not in html


def test_filters_sort_and_suggestion(client, auth, factories, library):
    headers = auth.token(factories.user("rep"))
    emea = client.get("/api/v1/search?q=&region=EMEA", headers=headers).get_json()
    assert [i["id"] for i in emea["items"]] == [library["security"].id]
    assert client.get("/api/v1/search?q=encryptoin", headers=headers).get_json()["suggestion"] == "encryption"
    newest = client.get("/api/v1/search?sort=newest", headers=headers).get_json()
    assert [i["id"] for i in newest["items"]] == [library["security"].id, library["pricing"].id]


def test_malformed_query_is_answered(client, auth, factories, library):
    headers = auth.token(factories.user("rep"))
    for text in ['"unclosed', "title:", "((", "NOT", "*"]:
        response = client.get("/api/v1/search", query_string={"q": text}, headers=headers)
        assert response.status_code == 200
    assert client.get("/api/v1/search?page=abc", headers=headers).status_code == 400


def test_retired_items_and_their_slides_vanish_for_reps(client, auth, factories, library):
    marketer_headers = auth.token(library["marketer"])
    client.post(f"/api/v1/assets/{library['pricing'].id}/retire", json={"reason": "new pricing"}, headers=marketer_headers)
    rep_headers = auth.token(factories.user("rep"))
    assert client.get("/api/v1/search?q=pricing", headers=rep_headers).get_json()["total"] == 0
    assert client.get("/api/v1/search/pages?q=payback", headers=rep_headers).get_json()["total"] == 0
    staff = client.get("/api/v1/search?q=pricing&include_hidden=1", headers=marketer_headers).get_json()
    assert [i["id"] for i in staff["items"]] == [library["pricing"].id]
    client.post(f"/api/v1/assets/{library['pricing'].id}/restore", headers=marketer_headers)
    assert client.get("/api/v1/search?q=pricing", headers=rep_headers).get_json()["total"] == 1


def test_metadata_edit_reaches_the_index(client, auth, factories, library):
    headers = auth.token(library["marketer"])
    client.patch(f"/api/v1/assets/{library['security'].id}", json={"title": "Zero trust brief"}, headers=headers)
    assert [i["id"] for i in client.get("/api/v1/search?q=zero+trust", headers=headers).get_json()["items"]] == \
        [library["security"].id]


def test_searches_and_clicks_are_logged(client, auth, factories, library):
    rep = factories.user("rep")
    auth.login(rep)
    client.get("/search?q=payback&tab=slides")
    client.get("/search?q=nothing+matches+this+zzz")
    logs = db.session.scalars(db.select(SearchLog).order_by(SearchLog.id)).all()
    assert [(entry.query, entry.scope, entry.result_count) for entry in logs] == [
        ("payback", "pages", 1), ("nothing matches this zzz", "assets", 0)]
    response = client.get(f"/search/click/{library['pricing'].id}?log={logs[0].id}&page=2&q=payback")
    # A page hit opens the viewer at that page, the terms highlighted.
    assert response.status_code == 302
    assert response.location.endswith(f"/assets/{library['pricing'].id}/view?page=2&q=payback")
    click = db.session.scalar(db.select(UsageEvent).where(UsageEvent.kind == "search_click"))
    assert (click.asset_id, click.search_log_id, click.page_number, click.user_id) == (
        library["pricing"].id, logs[0].id, 2, rep.id)


def test_reindex_and_check_commands(runner, library):
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0 and "Indexed 2 assets" in result.output
    check = runner.invoke(args=["index-check"])
    assert check.exit_code == 0 and "missing: 0" in check.output


def test_more_like_this_on_asset_page(client, auth, factories, library, tmp_path):
    other = factories.asset(library["marketer"], title="Hospital pricing sheet", filename="h.pptx",
                            content=deck_bytes(tmp_path, "h.pptx", [{"title": "Per-bed pricing for hospitals"}]))
    auth.login(factories.user("rep"))
    html = client.get(f"/assets/{library['pricing'].id}").get_data(as_text=True)
    assert "More like this" in html and other.title in html


def test_upload_of_a_file_named_pptx_that_is_a_pdf(client, auth, factories, tmp_path):
    from assets.sample_files import make_pdf

    headers = auth.token(factories.user("marketer"))
    pdf = Path(make_pdf(str(tmp_path / "x.pdf"), [{"title": "Mislabelled", "lines": ["really a pdf"]}])).read_bytes()
    created = client.post("/api/v1/assets", headers=headers, content_type="multipart/form-data",
                          data={"title": "Mislabelled", "file": (io.BytesIO(pdf), "deck.pptx")}).get_json()
    version = created["current_version"]
    assert version["processing"] == "ready" and version["kind"] == "pdf" and version["page_count"] == 1


def test_usage_refresh_reaches_search_sorting(client, auth, factories, library, app):
    from portal.search.tasks import refresh_usage_in_index

    headers = auth.token(factories.user("rep"))
    client.get(f"/api/v1/assets/{library['pricing'].id}/download", headers=headers)
    refresh_usage_in_index()
    by_usage = client.get("/api/v1/search?sort=usage", headers=headers).get_json()
    assert [i["id"] for i in by_usage["items"]] == [library["pricing"].id, library["security"].id]
    for _ in range(3):
        client.get(f"/api/v1/assets/{library['security'].id}/download", headers=headers)
    refresh_usage_in_index()
    by_usage = client.get("/api/v1/search?sort=usage", headers=headers).get_json()
    assert [i["id"] for i in by_usage["items"]] == [library["security"].id, library["pricing"].id]
