"""Deck pages: the tray, the editor (reorder, remove, name, save, duplicate,
delete), stale slides with "Use current version", and retired slides."""

from __future__ import annotations

import io

from sqlalchemy import select

from portal.extensions import db
from portal.models import Deck, UsageEvent
from tests.portal.test_decks_api import PPTX_MIME, pages_of, pptx_bytes, slide_titles, upload_deck
from tests.portal.test_decks_api import library as library  # noqa: F401  (the shared fixture)


def add(client, page_id, **kwargs):
    return client.post("/decks/tray/add", json={"page_id": page_id}, **kwargs)


def test_tray_is_created_on_first_add_and_shown_on_every_page(client, auth, library):
    auth.login(library["rep"])
    assert client.get("/decks/tray").get_json() == {"id": None, "count": 0, "url": None, "slides": []}
    page = client.get("/decks")
    assert b'data-testid="tray-count">0<' in page.data

    pa, pb = library["pa"], library["pb"]
    response = add(client, pa[0].id)
    assert response.status_code == 200
    body = response.get_json()
    assert body["count"] == 1 and body["url"] == f"/decks/{body['id']}"
    body = add(client, pb[1].id).get_json()
    assert body["count"] == 2
    assert [s["title"] for s in body["slides"]] == ["Deck A slide 1", "Deck B slide 2"]
    tray = db.session.get(Deck, body["id"])
    assert tray.title == "" and tray.owner_id == library["rep"].id

    # A plain form post (no JavaScript) works too and goes back where it came from.
    response = client.post("/decks/tray/add", data={"page_id": pa[2].id}, headers={"Referer": "/search"})
    assert response.status_code == 302 and response.location.endswith("/search")
    assert client.get("/decks/tray").get_json()["count"] == 3

    for url in ("/decks", f"/assets/{library['a'].id}", f"/decks/{body['id']}"):
        html = client.get(url).get_data(as_text=True)
        assert 'data-testid="tray-count">3<' in html and f'href="/decks/{body["id"]}">Open</a>' in html
    # The nav badge counts the tray's slides.
    assert 'data-testid="badge-decks.index">3<' in client.get("/decks").get_data(as_text=True)


def test_tray_add_refuses_bad_input(client, auth, library, factories):
    from portal.library.services import retire_assets

    auth.login(library["rep"])
    headers = {"Accept": "application/json"}
    response = client.post("/decks/tray/add", json={}, headers=headers)
    assert response.status_code == 422 and "page_id" in response.get_json()["error"]["fields"]
    response = client.post("/decks/tray/add", json={"page_id": "abc"}, headers=headers)
    assert response.status_code == 422
    response = add(client, 424242, headers=headers)
    assert response.status_code == 422 and "424242" in response.get_json()["error"]["message"]
    retire_assets([library["b"]], library["marketer"], "Old")
    response = add(client, library["pb"][0].id, headers=headers)
    assert response.status_code == 422
    assert client.get("/decks/tray").get_json()["count"] == 0


def test_saving_names_the_deck_and_the_next_add_starts_a_new_tray(client, auth, library):
    auth.login(library["rep"])
    pa, pb = library["pa"], library["pb"]
    for page in (pa[0], pb[0], pa[1]):
        deck_id = add(client, page.id).get_json()["id"]

    # Reorder (B1, A2, A1) and name it, as the editor's form sends it.
    response = client.post(f"/decks/{deck_id}", data={"title": "Acme kickoff",
                                                      "page_id": [pb[0].id, pa[1].id, pa[0].id]})
    assert response.status_code == 302 and response.location.endswith(f"/decks/{deck_id}")
    deck = db.session.get(Deck, deck_id)
    db.session.refresh(deck)
    assert deck.title == "Acme kickoff"
    assert [s.page_id for s in deck.slides] == [pb[0].id, pa[1].id, pa[0].id]
    assert [s.position for s in deck.slides] == [1, 2, 3]

    html = client.get("/decks").get_data(as_text=True)
    assert "Acme kickoff" in html and "No deck in progress" in html
    assert client.get("/decks/tray").get_json()["count"] == 0
    new_tray = add(client, pb[1].id).get_json()
    assert new_tray["id"] != deck_id and new_tray["count"] == 1

    download = client.get(f"/decks/{deck_id}/download")
    assert download.status_code == 200 and download.mimetype == PPTX_MIME
    assert "Acme kickoff.pptx" in download.headers["Content-Disposition"]
    assert slide_titles(download.data) == ["Deck B slide 1", "Deck A slide 2", "Deck A slide 1"]
    assert db.session.scalar(select(db.func.count()).select_from(UsageEvent).where(
        UsageEvent.kind == "deck_inclusion", UsageEvent.deck_id == deck_id)) == 3


def test_buttons_without_javascript_move_and_remove(client, auth, library):
    auth.login(library["rep"])
    pa = library["pa"]
    for page in pa:
        deck_id = add(client, page.id).get_json()["id"]
    order = [p.id for p in pa]
    client.post(f"/decks/{deck_id}", data={"title": "", "page_id": order, "down": "0"})
    deck = db.session.get(Deck, deck_id)
    db.session.refresh(deck)
    assert [s.page_id for s in deck.slides] == [pa[1].id, pa[0].id, pa[2].id]
    client.post(f"/decks/{deck_id}", data={"title": "", "page_id": [s.page_id for s in deck.slides], "up": "2"})
    db.session.refresh(deck)
    assert [s.page_id for s in deck.slides] == [pa[1].id, pa[2].id, pa[0].id]
    client.post(f"/decks/{deck_id}", data={"title": "", "page_id": [s.page_id for s in deck.slides], "remove": "1"})
    db.session.refresh(deck)
    assert [s.page_id for s in deck.slides] == [pa[1].id, pa[0].id]
    assert deck.title == ""  # still the deck in progress
    assert slide_titles(client.get(f"/decks/{deck_id}/download").data) == ["Deck A slide 2", "Deck A slide 1"]


def test_editor_shows_slides_in_order(client, auth, library):
    auth.login(library["rep"])
    pa, pb = library["pa"], library["pb"]
    for page in (pb[1], pa[2]):
        deck_id = add(client, page.id).get_json()["id"]
    html = client.get(f"/decks/{deck_id}").get_data(as_text=True)
    assert html.index("Deck B slide 2") < html.index("Deck A slide 3")
    assert html.count('data-testid="deck-slide"') == 2
    assert f'/decks/{deck_id}/download' in html and "Duplicate" in html and "Delete" in html


def test_duplicate_and_delete(client, auth, library):
    auth.login(library["rep"])
    pa = library["pa"]
    for page in (pa[2], pa[0]):
        deck_id = add(client, page.id).get_json()["id"]
    client.post(f"/decks/{deck_id}", data={"title": "Original", "page_id": [pa[2].id, pa[0].id]})
    response = client.post(f"/decks/{deck_id}/duplicate")
    assert response.status_code == 302
    copy_id = int(response.location.rstrip("/").rsplit("/", 1)[1])
    copy = db.session.get(Deck, copy_id)
    assert copy.title == "Copy of Original" and [s.page_id for s in copy.slides] == [pa[2].id, pa[0].id]

    response = client.post(f"/decks/{deck_id}/delete")
    assert response.status_code == 302 and response.location.endswith("/decks")
    db.session.expire_all()
    assert db.session.get(Deck, deck_id) is None
    assert db.session.get(Deck, copy_id) is not None
    assert client.get(f"/decks/{deck_id}").status_code == 404


def test_other_users_get_404(client, auth, library):
    auth.login(library["rep"])
    deck_id = add(client, library["pa"][0].id).get_json()["id"]
    auth.logout()
    for user in (library["other"], library["marketer"]):
        auth.login(user)
        assert client.get(f"/decks/{deck_id}").status_code == 404
        assert client.post(f"/decks/{deck_id}", data={"title": "Mine now"}).status_code == 404
        assert client.post(f"/decks/{deck_id}/duplicate").status_code == 404
        assert client.post(f"/decks/{deck_id}/delete").status_code == 404
        assert client.post(f"/decks/{deck_id}/slides/1/refresh").status_code == 404
        assert client.get(f"/decks/{deck_id}/download").status_code == 404
        assert client.get("/decks/tray").get_json()["count"] == 0
        auth.logout()
    assert db.session.get(Deck, deck_id) is not None


def test_stale_slide_is_flagged_and_refreshed(client, auth, library, tmp_path, app):
    from portal.library.services import add_version

    auth.login(library["rep"])
    pa, pb = library["pa"], library["pb"]
    for page in (pa[1], pa[2], pb[0]):
        deck_id = add(client, page.id).get_json()["id"]
    # Version 2 moves "Deck A slide 3" to the front and rewrites slide 2.
    content = pptx_bytes(tmp_path, "a2.pptx", ["Deck A slide 3", "Deck A slide 2 (2027 prices)", "Deck A slide 1"])
    add_version(library["a"], library["marketer"], io.BytesIO(content), "a2.pptx",
                app.config["SETTINGS"].max_upload_bytes)
    new_pages = pages_of(library["a"])
    assert [p.title for p in new_pages] == ["Deck A slide 3", "Deck A slide 2 (2027 prices)", "Deck A slide 1"]

    html = client.get(f"/decks/{deck_id}").get_data(as_text=True)
    assert html.count("A newer version of Deck A exists") == 2
    assert "Use current version" in html
    tray = client.get("/decks/tray").get_json()
    assert [s["stale"] for s in tray["slides"]] == [True, True, False]

    # Slide 1 of the deck was slide 2 ("Deck A slide 2"): same number in the new version.
    assert client.post(f"/decks/{deck_id}/slides/1/refresh").status_code == 302
    # Slide 2 of the deck was "Deck A slide 3", now numbered 1: matched by its title.
    client.post(f"/decks/{deck_id}/slides/2/refresh")
    deck = db.session.get(Deck, deck_id)
    db.session.refresh(deck)
    assert [s.page_id for s in deck.slides] == [new_pages[1].id, new_pages[0].id, pb[0].id]
    assert [s["stale"] for s in client.get("/decks/tray").get_json()["slides"]] == [False, False, False]
    assert "A newer version" not in client.get(f"/decks/{deck_id}").get_data(as_text=True)
    # Refreshing a current slide says so; an unknown position is 404.
    response = client.post(f"/decks/{deck_id}/slides/3/refresh", follow_redirects=True)
    assert "already comes from the current version" in response.get_data(as_text=True)
    assert client.post(f"/decks/{deck_id}/slides/9/refresh").status_code == 404
    assert slide_titles(client.get(f"/decks/{deck_id}/download").data) == [
        "Deck A slide 2 (2027 prices)", "Deck A slide 3", "Deck B slide 1"]


def test_retired_slides_block_rep_download_not_marketer(client, auth, library):
    from portal.library.services import retire_assets

    pa, pb = library["pa"], library["pb"]
    auth.login(library["rep"])
    for page in (pa[0], pb[1]):
        rep_deck = add(client, page.id).get_json()["id"]
    auth.logout()
    auth.login(library["marketer"])
    for page in (pb[1], pa[0]):
        staff_deck = add(client, page.id).get_json()["id"]
    retire_assets([library["b"]], library["marketer"], "Replaced by the 2027 deck")

    html = client.get(f"/decks/{staff_deck}").get_data(as_text=True)
    assert "Retired" in html and "Reps could not download this slide" in html
    response = client.get(f"/decks/{staff_deck}/download")
    assert response.status_code == 200
    assert slide_titles(response.data) == ["Deck B slide 2", "Deck A slide 1"]
    auth.logout()

    auth.login(library["rep"])
    html = client.get(f"/decks/{rep_deck}").get_data(as_text=True)
    assert 'data-testid="retired-warning"' in html and "slide 2 (Deck B, slide 2)" in html
    response = client.get(f"/decks/{rep_deck}/download")
    assert response.status_code == 422
    assert "slide 2 (Deck B, slide 2)" in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(UsageEvent).where(
        UsageEvent.kind == "deck_inclusion", UsageEvent.deck_id == rep_deck)) == 0
    # Removing the retired slide makes the deck downloadable again.
    client.post(f"/decks/{rep_deck}", data={"title": "", "page_id": [pa[0].id, pb[1].id], "remove": "1"})
    response = client.get(f"/decks/{rep_deck}/download")
    assert response.status_code == 200 and slide_titles(response.data) == ["Deck A slide 1"]


def test_empty_deck_cannot_be_downloaded(client, auth, library, factories):
    auth.login(library["rep"])
    deck_id = add(client, library["pa"][0].id).get_json()["id"]
    # The editor sends its (now empty) order after every slide was removed in the browser.
    client.post(f"/decks/{deck_id}", data={"title": "Empty", "order": "sent"})
    db.session.expire_all()
    assert db.session.get(Deck, deck_id).slides == []
    response = client.get(f"/decks/{deck_id}/download")
    assert response.status_code == 422
    assert "no slides" in response.get_data(as_text=True)


def test_upload_deck_helper_makes_real_pages(factories, tmp_path):
    marketer = factories.user("marketer")
    asset = upload_deck(factories, marketer, tmp_path, "Helper", ["One", "Two"])
    assert [p.title for p in pages_of(asset)] == ["One", "Two"]
