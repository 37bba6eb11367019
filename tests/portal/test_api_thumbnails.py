"""Every image URL the JSON API hands out is fetchable by the same client with its
bearer token (no browser session), and carries caching headers."""

from __future__ import annotations

from pathlib import Path

from assets.sample_files import make_pdf, make_pptx
from portal.extensions import db


def _collect_urls(value, found: set[str]) -> set[str]:
    """Every `thumbnail_url` anywhere in a JSON answer."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("_url") and key != "preview_url" and isinstance(item, str):  # images only
                found.add(item)
            else:
                _collect_urls(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_urls(item, found)
    return found


def test_api_client_fetches_every_thumbnail_url_it_receives(client, factories, auth, tmp_path):
    marketer = factories.user("marketer")
    pdf = Path(make_pdf(str(tmp_path / "guide.pdf"), [
        {"title": "Hospital pricing", "lines": ["pricing for hospitals"]},
        {"title": "Hospital rollout", "lines": ["rollout plan for hospitals"]},
    ]))
    guide = factories.asset(marketer, title="Hospital guide", filename="guide.pdf", content=pdf.read_bytes())
    deck_file = Path(make_pptx(str(tmp_path / "deck.pptx"), [
        {"title": "Hospital overview", "bullets": ["hospitals at a glance"]},
        {"title": "Hospital pricing tiers", "bullets": ["tiers for hospitals"]},
    ]))
    deck_asset = factories.asset(marketer, title="Hospital deck", filename="deck.pptx", content_type="deck",
                                 content=deck_file.read_bytes())
    db.session.refresh(guide)
    db.session.refresh(deck_asset)
    assert guide.current_version.cover_key and deck_asset.current_version.cover_key

    rep = factories.user("rep")
    headers = auth.token(rep)
    answers = [
        client.get("/api/v1/assets", headers=headers),
        client.get(f"/api/v1/assets/{guide.id}", headers=headers),
        client.get(f"/api/v1/assets/{guide.id}/pages", headers=headers),
        client.get(f"/api/v1/assets/{deck_asset.id}/pages", headers=headers),
        client.get("/api/v1/search?q=hospitals", headers=headers),
        client.get("/api/v1/search/pages?q=hospitals", headers=headers),
    ]
    slide_ids = [p["id"] for p in answers[3].get_json()["items"]]
    created = client.post("/api/v1/decks", json={"title": "Mine", "page_ids": slide_ids}, headers=headers)
    assert created.status_code == 201, created.get_json()
    answers += [created, client.get(f"/api/v1/decks/{created.get_json()['id']}", headers=headers)]
    assert all(a.status_code in (200, 201) for a in answers), [a.get_json() for a in answers]

    urls: set[str] = set()
    for answer in answers:
        _collect_urls(answer.get_json(), urls)
    # Two covers and four pages at least (assets, pages, search, decks).
    assert len(urls) >= 6, urls
    for url in sorted(urls):
        assert url.startswith("/api/v1/"), url
        image = client.get(url, headers=headers)
        assert image.status_code == 200, (url, image.status_code)
        assert image.mimetype == "image/png"
        assert image.data.startswith(b"\x89PNG"), url
        assert image.headers.get("ETag"), url
        assert "private" in image.headers["Cache-Control"] and "max-age" in image.headers["Cache-Control"]
        again = client.get(url, headers={**headers, "If-None-Match": image.headers["ETag"]})
        assert again.status_code == 304, url
        assert client.get(url).status_code == 401, url  # no token, no image


def test_thumbnail_of_an_item_a_rep_may_not_see_is_404(client, factories, auth, tmp_path):
    marketer = factories.user("marketer")
    pdf = Path(make_pdf(str(tmp_path / "old.pdf"), [{"title": "Old pricing", "lines": ["old prices"]}]))
    item = factories.asset(marketer, title="Old pricing", filename="old.pdf", content=pdf.read_bytes())
    page_id = client.get(f"/api/v1/assets/{item.id}/pages", headers=auth.token(marketer)).get_json()["items"][0]["id"]
    client.post(f"/api/v1/assets/{item.id}/retire", json={"reason": "old"}, headers=auth.token(marketer))
    rep_headers = auth.token(factories.user("rep"))
    assert client.get(f"/api/v1/assets/{item.id}/cover", headers=rep_headers).status_code == 404
    assert client.get(f"/api/v1/pages/{page_id}/thumbnail", headers=rep_headers).status_code == 404
    assert client.get(f"/api/v1/pages/{page_id}/thumbnail", headers=auth.token(marketer)).status_code == 200
