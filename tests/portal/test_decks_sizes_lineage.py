"""Decks of mixed slide sizes and slide lineage through the portal, with real decks
processed as uploads are (LibreOffice thumbnails, fingerprints, grouping queued):
the deck's size and size warnings in the API and the editor, the tray saying a
slide is already there, GET /pages/{id}/lineage, "also appears in N decks" on the
asset page, and the notices sent when a new version changes a slide."""

from __future__ import annotations

import io

import pytest
from pptx import Presentation
from sqlalchemy import select

from portal.decks.lineage import after_processing
from portal.extensions import db
from portal.library.services import add_version
from portal.models import Notification, Page, SlideBucket, SlideChangeNotice
from tests.support.lineage_decks import base_slides, write_deck
from tests.support.sized_decks import LOOKS, SIZES, make_sized_deck

PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def _upload(factories, owner, path: str, title: str):
    with open(path, "rb") as stream:
        asset = factories.asset(owner, title=title, content_type="deck", filename=f"{title}.pptx",
                                content=stream.read())
    db.session.refresh(asset)
    assert asset.current_version.kind == "pptx", asset.current_version.error
    return asset


def _pages(asset) -> list[Page]:
    return list(db.session.scalars(select(Page).where(Page.version_id == asset.current_version_id)
                                   .order_by(Page.number)))


@pytest.fixture
def sized(factories, tmp_path):
    marketer = factories.user("marketer")
    sand = _upload(factories, marketer, make_sized_deck(str(tmp_path / "sand.pptx"), "4:3", **LOOKS["4:3"]), "Sand")
    navy = _upload(factories, marketer, make_sized_deck(str(tmp_path / "navy.pptx"), "16:9", **LOOKS["16:9"]), "Navy")
    return {"rep": factories.user("rep"), "sand": _pages(sand), "navy": _pages(navy), "sand_asset": sand}


def test_deck_size_and_warnings_through_the_api(client, auth, sized, runner):
    headers = auth.token(sized["rep"])
    navy, sand = sized["navy"], sized["sand"]
    assert navy[0].version.slide_width_emu == SIZES["16:9"][0]  # measured at processing
    assert navy[0].phash and navy[0].group_id is not None
    # Versions processed before migration 0015 have neither; the queued backfill measures them.
    version = navy[0].version
    version.slide_width_emu = version.slide_height_emu = None
    for page in navy:
        page.phash = page.minhash = page.group_id = None
    db.session.execute(SlideBucket.__table__.delete().where(SlideBucket.page_id.in_([p.id for p in navy])))
    db.session.commit()
    result = runner.invoke(args=["lineage-backfill"])
    assert result.exit_code == 0 and "Queued 1 deck versions in 1 jobs" in result.output, result.output
    db.session.expire_all()
    assert (version.slide_width_emu, version.slide_height_emu) == SIZES["16:9"]
    assert all(p.phash and p.minhash and p.group_id for p in navy)
    created = client.post("/api/v1/decks", json={"title": "Mixed", "page_ids": [navy[0].id, sand[1].id]},
                          headers=headers)
    assert created.status_code == 201
    body = created.get_json()
    assert body["size"] == {"width_emu": 12192000, "height_emu": 6858000, "label": "16:9", "chosen": False}
    assert len(body["warnings"]) == 1 and "Slide 2 (“Sand”) is 4:3" in body["warnings"][0]
    deck_id = body["id"]
    changed = client.put(f"/api/v1/decks/{deck_id}", headers=headers,
                         json={"title": "Mixed", "page_ids": [navy[0].id, sand[1].id], "size": "4:3"}).get_json()
    assert changed["size"]["label"] == "4:3" and changed["size"]["chosen"] is True
    assert "Slide 1 (“Navy”) is 16:9; it will be fitted to 4:3: scaled to 75%" in changed["warnings"][0]
    kept = client.put(f"/api/v1/decks/{deck_id}", headers=headers,
                      json={"title": "Mixed!", "page_ids": [navy[0].id, sand[1].id]}).get_json()
    assert kept["size"]["label"] == "4:3"  # no "size": the chosen size stays
    for bad in ({"width_emu": 5, "height_emu": 5}, "banana", {"width_emu": 10**30, "height_emu": 1},
                {"width_emu": True, "height_emu": 9144000}, 12):
        answer = client.put(f"/api/v1/decks/{deck_id}", headers=headers,
                            json={"title": "Mixed", "page_ids": [navy[0].id], "size": bad})
        assert answer.status_code == 422, bad
        assert "size" in answer.get_json()["error"]["message"] or answer.get_json()["error"].get("fields")
    download = client.get(f"/api/v1/decks/{deck_id}/download", headers=headers)
    assert download.status_code == 200 and download.mimetype == PPTX
    deck = Presentation(io.BytesIO(download.data))
    assert (deck.slide_width, deck.slide_height) == SIZES["4:3"]
    assert [s.shapes.title.text for s in deck.slides] == ["Navy: pricing tiers", "Sand: table and chart"]
    title = deck.slides[0].shapes.title
    assert title.left + title.width <= SIZES["4:3"][0]  # fitted, not cut off
    back = client.put(f"/api/v1/decks/{deck_id}", headers=headers,
                      json={"title": "Mixed", "page_ids": [sand[1].id, navy[0].id], "size": None}).get_json()
    assert back["size"]["label"] == "4:3" and back["size"]["chosen"] is False  # now the first slide's


def test_the_tray_tells_the_truth_and_the_editor_shows_the_size(client, auth, sized):
    auth.login(sized["rep"])
    navy, sand = sized["navy"], sized["sand"]
    first = client.post("/decks/tray/add", json={"page_id": sand[0].id}).get_json()
    assert first["added"] is True and first["count"] == 1
    second = client.post("/decks/tray/add", json={"page_id": sand[0].id}).get_json()
    assert second["added"] is False and second["already_at"] == [1] and second["count"] == 1
    assert "already in the deck in progress (slide 1)" in second["message"]
    again = client.post("/decks/tray/add", json={"page_id": sand[0].id, "again": True}).get_json()
    assert again["added"] is True and again["count"] == 2
    assert client.post("/decks/tray/add", json={"page_id": sand[0].id}).get_json()["already_at"] == [1, 2]
    form = client.post("/decks/tray/add", data={"page_id": sand[0].id}, follow_redirects=True)  # without JS
    assert "already in the deck in progress (slide 1, 2)" in form.get_data(as_text=True)
    tray = client.get("/decks/tray").get_json()
    client.post(f"/decks/{tray['id']}", data={"title": "", "order": "sent", "page_id": [sand[0].id]})
    assert client.post("/decks/tray/add", json={"page_id": navy[1].id}).get_json()["added"] is True
    tray = client.get("/decks/tray").get_json()
    page = client.get(tray["url"]).get_data(as_text=True)
    assert 'data-testid="size-notice"' in page and "Slide 2 (“Navy”) is 16:9" in page
    assert "This deck is 4:3, like its first slide." in page
    deck_id = tray["id"]
    saved = client.post(f"/decks/{deck_id}", data={"title": "", "order": "sent", "page_id": [sand[0].id, navy[1].id],
                                                   "size": f"{SIZES['16:9'][0]}x{SIZES['16:9'][1]}"})
    assert saved.status_code == 302
    page = client.get(tray["url"]).get_data(as_text=True)
    assert "This deck is 16:9 (chosen)." in page and "Slide 1 (“Sand”) is 4:3" in page
    bad = client.post(f"/decks/{deck_id}", data={"title": "", "size": "1x1"}, follow_redirects=True)
    assert bad.status_code == 200 and "Choose the slide size" in bad.get_data(as_text=True)


def test_lineage_api_asset_page_and_the_stale_copy_notice(client, auth, factories, tmp_path):
    base = base_slides(8)
    owner, other_owner, rep = factories.user("marketer"), factories.user("marketer"), factories.user("rep")
    alpha = _upload(factories, owner, write_deck(str(tmp_path / "alpha.pptx"), base[:4]), "Alpha")
    beta = _upload(factories, other_owner, write_deck(str(tmp_path / "beta.pptx"), [base[0], base[5], base[1]]),
                   "Beta")
    pa, pb = _pages(alpha), _pages(beta)
    assert all(p.phash and p.minhash for p in pa + pb)
    assert pa[0].group_id == pb[0].group_id and pa[1].group_id == pb[2].group_id
    assert len({pa[2].group_id, pa[3].group_id, pb[1].group_id, pa[0].group_id}) == 4
    headers = auth.token(rep)
    lineage = client.get(f"/api/v1/pages/{pa[0].id}/lineage", headers=headers).get_json()
    assert lineage["group_id"] == pa[0].group_id
    copies = {(c["asset_title"], c["number"]): c for c in lineage["copies"]}
    assert set(copies) == {("Alpha", 1), ("Beta", 1)}
    assert copies[("Beta", 1)]["newest"] is True and copies[("Alpha", 1)]["newest"] is False
    assert copies[("Beta", 1)]["status"] == "published"
    alone = client.get(f"/api/v1/pages/{pa[3].id}/lineage", headers=headers).get_json()
    assert [c["page_id"] for c in alone["copies"]] == [pa[3].id]
    assert client.get("/api/v1/pages/987654/lineage", headers=headers).status_code == 404
    assert client.get(f"/api/v1/pages/{pa[0].id}/lineage").status_code == 401

    # Slide search collapses the copies into the newest published one, the other one click away.
    query = " ".join(base[0]["bullets"][0].split()[:4])
    hits = client.get("/api/v1/search/pages", query_string={"q": query}, headers=headers).get_json()["items"]
    shown = [h for h in hits if h["page_id"] in (pa[0].id, pb[0].id)]
    assert len(shown) == 1 and shown[0]["page_id"] == pb[0].id  # Beta's copy is the newer
    assert [c["page_id"] for c in shown[0]["copies"]] == [pa[0].id]

    auth.login(rep)
    results = client.get("/search", query_string={"q": query, "tab": "slides"}).get_data(as_text=True)
    assert 'data-testid="slide-copies"' in results and "Also in 1 other deck" in results
    page = client.get(f"/assets/{alpha.id}").get_data(as_text=True)
    assert 'data-testid="slide-lineage"' in page and "also appears in 1 deck" in page
    assert f"/assets/{beta.id}#page-1" in page
    saved = client.post("/api/v1/decks", json={"title": "Pitch", "page_ids": [pa[0].id, pa[2].id]}, headers=headers)
    assert saved.status_code == 201

    # A new version of Alpha replaces slide 1 with another slide and keeps the rest.
    new_path = write_deck(str(tmp_path / "alpha2.pptx"), [base[6], base[1], base[2], base[3]])
    with open(new_path, "rb") as stream:
        add_version(alpha, owner, stream, "alpha2.pptx", 10**8)
    db.session.expire_all()
    notices = {n.user_id: n for n in db.session.scalars(select(Notification))}
    told = notices[other_owner.id].message
    assert "slide 1 of “Alpha”" in told and "changed in version 2" in told
    assert f"replaced by slide 1 “{base[6]['title']}”" in told and "“Beta” holds an older copy as slide 1" in told
    assert "saved deck “Pitch” holds an older copy as slide 1" in notices[rep.id].message
    assert len([n for n in db.session.scalars(select(Notification)) if n.user_id == rep.id]) == 1  # only slide 1

    # Processing the same version again (a re-run or retried job) tells no one twice.
    before = sorted((n.user_id, n.message) for n in db.session.scalars(select(Notification)))
    recorded = db.session.scalars(select(SlideChangeNotice)).all()
    assert {(r.slide_number, r.holder, r.user_id) for r in recorded} == {
        (1, f"asset:{beta.id}", other_owner.id), (1, f"deck:{saved.get_json()['id']}", rep.id)}
    after_processing(alpha.current_version_id)
    db.session.expire_all()
    assert sorted((n.user_id, n.message) for n in db.session.scalars(select(Notification))) == before
