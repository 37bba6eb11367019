"""Pages of a superseded version: staff may see them; reps get the current
version's pages only (thumbnails 404, decks refuse them with 422), except the
slides already in their own decks."""

from __future__ import annotations

import io

import pytest

from portal.extensions import db
from portal.library.services import add_version
from portal.models import Page
from portal.storage import get_storage
from tests.portal.test_decks_api import pages_of, pptx_bytes, upload_deck

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def _thumbnail(page: Page) -> None:
    key = f"thumbnails/test/page-{page.id}.png"
    get_storage().save(key, io.BytesIO(PNG), content_type="image/png")
    page.thumbnail_key = key


@pytest.fixture
def versions(app, factories, tmp_path):
    """A deck with two versions, every page with a thumbnail."""
    marketer = factories.user("marketer")
    deck = upload_deck(factories, marketer, tmp_path, "Pricing deck", ["Prices 2026", "Terms"])
    old = pages_of(deck)
    add_version(deck, marketer, io.BytesIO(pptx_bytes(tmp_path, "v2.pptx", ["Prices 2027", "Terms"])), "v2.pptx",
                app.config["SETTINGS"].max_upload_bytes)
    db.session.refresh(deck)
    new = pages_of(deck)
    assert old and new and {p.version_id for p in old} != {p.version_id for p in new}
    for page in (*old, *new):
        _thumbnail(page)
    db.session.commit()
    return {"deck": deck, "old": old, "new": new, "marketer": marketer}


@pytest.mark.parametrize("prefix", ["/api/v1", ""])
def test_reps_get_thumbnails_of_the_current_version_only(client, auth, factories, versions, prefix):
    rep, staff = factories.user("rep"), factories.user("enablement")

    def fetch(user, page):
        if prefix:
            return client.get(f"/api/v1/pages/{page.id}/thumbnail", headers=auth.token(user))
        auth.login(user)
        response = client.get(f"/pages/{page.id}/thumbnail")
        auth.logout()
        return response

    old, new = versions["old"][0], versions["new"][0]
    assert fetch(rep, new).status_code == 200
    assert fetch(rep, old).status_code == 404
    assert fetch(staff, old).status_code == 200
    assert fetch(versions["marketer"], old).status_code == 200


def test_reps_cannot_build_decks_from_old_page_ids(client, auth, factories, versions):
    rep = factories.user("rep")
    headers = auth.token(rep)
    old, new = versions["old"], versions["new"]
    response = client.post("/api/v1/decks", json={"title": "Mine", "page_ids": [new[1].id, old[0].id]},
                           headers=headers)
    assert response.status_code == 422
    message = response.get_json()["error"]["message"]
    assert "older version" in message and f"Pricing deck, version 1, slide 1 (id {old[0].id})" in message
    assert str(new[1].id) not in message

    deck = client.post("/api/v1/decks", json={"title": "Mine", "page_ids": [new[0].id]}, headers=headers)
    assert deck.status_code == 201
    deck_id = deck.get_json()["id"]
    refused = client.put(f"/api/v1/decks/{deck_id}", json={"title": "Mine", "page_ids": [new[0].id, old[1].id]},
                         headers=headers)
    assert refused.status_code == 422 and f"id {old[1].id}" in refused.get_json()["error"]["message"]

    auth.login(rep)
    tray = client.post("/decks/tray/add", json={"page_id": old[0].id}, headers={"Accept": "application/json"})
    assert tray.status_code == 422 and "older version" in tray.get_json()["error"]["message"]

    staff = auth.token(factories.user("marketer"))
    assert client.post("/api/v1/decks", json={"title": "Archive", "page_ids": [old[0].id]},
                       headers=staff).status_code == 201


def test_slides_a_rep_took_before_a_new_version_stay_usable(app, client, auth, factories, tmp_path):
    marketer = factories.user("marketer")
    rep = factories.user("rep")
    headers = auth.token(rep)
    item = upload_deck(factories, marketer, tmp_path, "Battlecard", ["Us vs them", "Pricing"])
    taken = pages_of(item)
    for page in taken:
        _thumbnail(page)
    db.session.commit()
    deck = client.post("/api/v1/decks", json={"title": "Kickoff", "page_ids": [p.id for p in taken]},
                       headers=headers).get_json()
    add_version(item, marketer, io.BytesIO(pptx_bytes(tmp_path, "v2.pptx", ["Us vs them", "New pricing"])),
                "v2.pptx", app.config["SETTINGS"].max_upload_bytes)

    answer = client.get(f"/api/v1/decks/{deck['id']}", headers=headers).get_json()
    assert [p["stale"] for p in answer["pages"]] == [True, True]
    for page in answer["pages"]:  # every URL the answer holds is fetchable by the same client
        assert client.get(page["thumbnail_url"], headers=headers).status_code == 200
    reordered = client.put(f"/api/v1/decks/{deck['id']}", headers=headers,
                           json={"title": "Kickoff", "page_ids": [taken[1].id, taken[0].id]})
    assert reordered.status_code == 200, reordered.get_json()
    # Another rep, who never took them, does not see the old version's slides.
    other = auth.token(factories.user("rep"))
    assert client.get(answer["pages"][0]["thumbnail_url"], headers=other).status_code == 404
