"""Decks through the JSON API, with real .pptx files: create, read, reorder,
download (slides in order, usage recorded), stale and retired slides, and
who may see which deck."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pptx import Presentation
from sqlalchemy import select

from assets.sample_files import make_pptx
from portal.extensions import db
from portal.models import Page, UsageEvent
from tests.support.pptx_package import validate_package

PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def pptx_bytes(tmp_path, name: str, titles: list[str]) -> bytes:
    path = tmp_path / name
    make_pptx(str(path), [{"title": t, "bullets": [f"About {t.lower()}"], "notes": f"Say {t}"} for t in titles])
    return Path(path).read_bytes()


def upload_deck(factories, owner, tmp_path, title: str, titles: list[str]):
    """An asset whose current version is a real deck; processing runs inline and creates the pages."""
    asset = factories.asset(owner, title=title, content_type="deck", filename=f"{title}.pptx",
                            content=pptx_bytes(tmp_path, f"{title}.pptx", titles))
    db.session.refresh(asset)
    assert asset.current_version.kind == "pptx", asset.current_version.error
    return asset


def pages_of(asset) -> list[Page]:
    return list(db.session.scalars(
        select(Page).where(Page.version_id == asset.current_version_id).order_by(Page.number)
    ))


def slide_titles(data: bytes) -> list[str]:
    deck = Presentation(io.BytesIO(data))
    return [slide.shapes.title.text for slide in deck.slides]


@pytest.fixture
def library(factories, tmp_path):
    """Two source decks (A with three slides, B with two), a marketer, and two reps."""
    marketer = factories.user("marketer")
    a = upload_deck(factories, marketer, tmp_path, "Deck A", ["Deck A slide 1", "Deck A slide 2", "Deck A slide 3"])
    b = upload_deck(factories, marketer, tmp_path, "Deck B", ["Deck B slide 1", "Deck B slide 2"])
    return {"marketer": marketer, "rep": factories.user("rep"), "other": factories.user("rep"),
            "a": a, "b": b, "pa": pages_of(a), "pb": pages_of(b)}


def test_create_get_list_and_download_in_order(client, auth, library, tmp_path):
    headers = auth.token(library["rep"])
    pa, pb = library["pa"], library["pb"]
    order = [pb[1].id, pa[0].id, pa[2].id]
    response = client.post("/api/v1/decks", json={"title": "Acme kickoff", "page_ids": order}, headers=headers)
    assert response.status_code == 201, response.get_json()
    deck = response.get_json()
    assert deck["title"] == "Acme kickoff"
    assert [p["page_id"] for p in deck["pages"]] == order
    first = deck["pages"][0]
    assert first["asset_id"] == library["b"].id and first["asset_title"] == "Deck B"
    assert first["number"] == 2 and first["title"] == "Deck B slide 2" and first["version"] == 1
    assert first["stale"] is False and first["retired"] is False
    assert deck["created_at"] and deck["updated_at"]

    assert client.get(f"/api/v1/decks/{deck['id']}", headers=headers).get_json()["pages"] == deck["pages"]
    listed = client.get("/api/v1/decks", headers=headers).get_json()
    assert [d["id"] for d in listed["items"]] == [deck["id"]] and listed["total"] == 1

    download = client.get(f"/api/v1/decks/{deck['id']}/download", headers=headers)
    assert download.status_code == 200
    assert download.mimetype == PPTX_MIME
    assert "Acme kickoff.pptx" in download.headers["Content-Disposition"]
    assert slide_titles(download.data) == ["Deck B slide 2", "Deck A slide 1", "Deck A slide 3"]
    out = tmp_path / "result.pptx"
    out.write_bytes(download.data)
    assert validate_package(str(out)) == []


def test_download_records_one_deck_inclusion_per_slide(client, auth, library):
    rep = library["rep"]
    headers = auth.token(rep)
    pa, pb = library["pa"], library["pb"]
    deck = client.post("/api/v1/decks", json={"title": "Usage", "page_ids": [pa[1].id, pb[0].id, pa[1].id]},
                       headers=headers).get_json()
    assert client.get(f"/api/v1/decks/{deck['id']}/download", headers=headers).status_code == 200
    events = db.session.scalars(
        select(UsageEvent).where(UsageEvent.kind == "deck_inclusion").order_by(UsageEvent.id)
    ).all()
    assert [(e.asset_id, e.version_id, e.page_number, e.deck_id, e.user_id) for e in events] == [
        (library["a"].id, library["a"].current_version_id, 2, deck["id"], rep.id),
        (library["b"].id, library["b"].current_version_id, 1, deck["id"], rep.id),
        (library["a"].id, library["a"].current_version_id, 2, deck["id"], rep.id),
    ]


def test_put_reorders_and_removes_and_delete(client, auth, library):
    headers = auth.token(library["rep"])
    pa, pb = library["pa"], library["pb"]
    deck = client.post("/api/v1/decks", json={"title": "Draft", "page_ids": [pa[0].id, pa[1].id, pb[0].id]},
                       headers=headers).get_json()
    response = client.put(f"/api/v1/decks/{deck['id']}", json={"title": "Final", "page_ids": [pb[0].id, pa[0].id]},
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["title"] == "Final"
    assert [p["page_id"] for p in response.get_json()["pages"]] == [pb[0].id, pa[0].id]
    download = client.get(f"/api/v1/decks/{deck['id']}/download", headers=headers)
    assert slide_titles(download.data) == ["Deck B slide 1", "Deck A slide 1"]

    assert client.delete(f"/api/v1/decks/{deck['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/decks/{deck['id']}", headers=headers).status_code == 404


def test_only_the_owner_sees_a_deck(client, auth, library):
    pa = library["pa"]
    deck = client.post("/api/v1/decks", json={"title": "Mine", "page_ids": [pa[0].id]},
                       headers=auth.token(library["rep"])).get_json()
    for user in (library["other"], library["marketer"]):
        headers = auth.token(user)
        assert client.get(f"/api/v1/decks/{deck['id']}", headers=headers).status_code == 404
        assert client.put(f"/api/v1/decks/{deck['id']}", json={"title": "Theirs", "page_ids": []},
                          headers=headers).status_code == 404
        assert client.delete(f"/api/v1/decks/{deck['id']}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/decks/{deck['id']}/download", headers=headers).status_code == 404
        assert client.get("/api/v1/decks", headers=headers).get_json()["items"] == []
    assert client.get("/api/v1/decks/999999", headers=auth.token(library["rep"])).status_code == 404
    assert client.get(f"/api/v1/decks/{deck['id']}").status_code == 401


def test_validation(client, auth, library, factories):
    headers = auth.token(library["rep"])
    pa = library["pa"]

    def post(body):
        return client.post("/api/v1/decks", json=body, headers=headers)

    response = post({"title": "  ", "page_ids": [pa[0].id]})
    assert response.status_code == 422
    assert "title" in response.get_json()["error"]["fields"]

    response = post({"title": "Unknown", "page_ids": [pa[0].id, 987654, 987655]})
    assert response.status_code == 422
    assert "987654, 987655" in response.get_json()["error"]["message"]

    response = post({"title": "Bad ids", "page_ids": ["x", None]})
    assert response.status_code == 422 and "page_ids" in response.get_json()["error"]["fields"]
    response = post({"title": "Bad ids", "page_ids": "1,2"})
    assert response.status_code == 422 and "page_ids" in response.get_json()["error"]["fields"]

    response = post({"title": "Too many", "page_ids": [pa[0].id] * 301})
    assert response.status_code == 422 and "300" in response.get_json()["error"]["message"]
    assert post({"title": "Just enough", "page_ids": [pa[0].id] * 300}).status_code == 201

    pdf_page = Page(version_id=library["a"].current_version_id, asset_id=library["a"].id, number=99, title="x")
    text_asset = factories.asset(library["marketer"], title="Notes")
    pdf_page.version_id, pdf_page.asset_id = text_asset.current_version_id, text_asset.id
    db.session.add(pdf_page)
    db.session.commit()
    response = post({"title": "Not slides", "page_ids": [pdf_page.id]})
    assert response.status_code == 422
    assert "Only slides of PowerPoint decks" in response.get_json()["error"]["message"]
    assert f"Notes, page 99 (id {pdf_page.id})" in response.get_json()["error"]["message"]

    assert client.post("/api/v1/decks", data="nope", headers=headers).status_code == 400
    assert db.session.scalar(select(db.func.count()).select_from(UsageEvent).where(
        UsageEvent.kind == "deck_inclusion")) == 0


def test_reps_cannot_add_slides_of_retired_items(client, auth, library):
    from portal.library.services import retire_assets

    retire_assets([library["b"]], library["marketer"], "Old pricing")
    page_id = library["pb"][0].id
    response = client.post("/api/v1/decks", json={"title": "X", "page_ids": [page_id]},
                           headers=auth.token(library["rep"]))
    assert response.status_code == 422 and str(page_id) in response.get_json()["error"]["message"]
    assert client.post("/api/v1/decks", json={"title": "X", "page_ids": [page_id]},
                       headers=auth.token(library["marketer"])).status_code == 201


def test_retired_slides_block_rep_download_but_not_staff(client, auth, library, factories):
    from portal.library.services import retire_assets

    pa, pb = library["pa"], library["pb"]
    rep_headers = auth.token(library["rep"])
    rep_deck = client.post("/api/v1/decks", json={"title": "Rep", "page_ids": [pa[0].id, pb[1].id]},
                           headers=rep_headers).get_json()
    staff_headers = auth.token(library["marketer"])
    staff_deck = client.post("/api/v1/decks", json={"title": "Staff", "page_ids": [pa[0].id, pb[1].id]},
                             headers=staff_headers).get_json()
    retire_assets([library["b"]], library["marketer"], "Replaced")

    deck = client.get(f"/api/v1/decks/{rep_deck['id']}", headers=rep_headers).get_json()
    assert [p["retired"] for p in deck["pages"]] == [False, True]
    response = client.get(f"/api/v1/decks/{rep_deck['id']}/download", headers=rep_headers)
    assert response.status_code == 422
    message = response.get_json()["error"]["message"]
    assert "slide 2 (Deck B, slide 2)" in message
    # The rep can still trim the deck (the retired slide was already in it) and then download it.
    trimmed = client.put(f"/api/v1/decks/{rep_deck['id']}", json={"title": "Rep", "page_ids": [pa[0].id]},
                         headers=rep_headers)
    assert trimmed.status_code == 200
    assert slide_titles(client.get(f"/api/v1/decks/{rep_deck['id']}/download", headers=rep_headers).data) == [
        "Deck A slide 1"]

    response = client.get(f"/api/v1/decks/{staff_deck['id']}/download", headers=staff_headers)
    assert response.status_code == 200
    assert slide_titles(response.data) == ["Deck A slide 1", "Deck B slide 2"]


def test_stale_slides_are_flagged(client, auth, library, tmp_path, app):
    from portal.library.services import add_version

    headers = auth.token(library["rep"])
    pa = library["pa"]
    deck = client.post("/api/v1/decks", json={"title": "Stale", "page_ids": [pa[1].id, library["pb"][0].id]},
                       headers=headers).get_json()
    content = pptx_bytes(tmp_path, "a2.pptx", ["Deck A slide 1", "Deck A slide 2 (2027 prices)"])
    add_version(library["a"], library["marketer"], io.BytesIO(content), "a2.pptx",
                app.config["SETTINGS"].max_upload_bytes)
    deck = client.get(f"/api/v1/decks/{deck['id']}", headers=headers).get_json()
    assert [(p["stale"], p["version"]) for p in deck["pages"]] == [(True, 1), (False, 1)]
    # A stale slide still downloads as the version that was chosen.
    download = client.get(f"/api/v1/decks/{deck['id']}/download", headers=headers)
    assert slide_titles(download.data) == ["Deck A slide 2", "Deck B slide 1"]
