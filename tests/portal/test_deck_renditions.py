"""Built decks in the viewer (portal/decks/renditions.py): the PDF LibreOffice makes of a
deck's assembled file, served to the rep (/decks/ID/view, the API's preview) and to a buyer
of a deck link (/s/TOKEN/document.pdf), only for the deck as it is now; the slide pictures
while it is made and when it cannot be."""

from __future__ import annotations

from dataclasses import replace

import pypdfium2 as pdfium
import pytest
from sqlalchemy import select

from portal.decks import renditions
from portal.extensions import db
from portal.models import DeckBuild, SharePageView, utcnow
from portal.storage import get_storage
from tests.portal.test_decks_api import library as library  # noqa: F401 (real decks, a shared fixture)
from tests.portal.test_sharing import beacon, open_as_buyer, share, token_of


def pdf_slide_titles(data: bytes) -> list[str]:
    """The first line of text of each page of a PDF."""
    pdf = pdfium.PdfDocument(data)
    try:
        return [pdf[i].get_textpage().get_text_range().strip().splitlines()[0].strip() for i in range(len(pdf))]
    finally:
        pdf.close()


def make_deck(client, headers, library, title="Acme kickoff"):
    pa, pb = library["pa"], library["pb"]
    response = client.post("/api/v1/decks", json={"title": title, "page_ids": [pb[1].id, pa[0].id, pa[2].id]},
                           headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def build_of(deck_id: int) -> DeckBuild:
    db.session.expire_all()
    return db.session.scalars(select(DeckBuild).where(DeckBuild.deck_id == deck_id)).one()


SLIDES = ["Deck B slide 2", "Deck A slide 1", "Deck A slide 3"]


def test_a_shared_deck_is_read_as_the_pdf_of_its_build(app, client, auth, library):
    rep = library["rep"]
    headers = auth.token(rep)
    deck = make_deck(client, headers, library)
    token = token_of(share(client, headers, deck_id=deck["id"]))  # sharing builds the deck and its PDF
    build = build_of(deck["id"])
    assert (build.status, build.pdf_status, build.pdf_pages) == ("ready", "ready", 3)

    buyer = open_as_buyer(app, token)
    html = buyer.get(f"/s/{token}").get_data(as_text=True)
    assert f'data-src="/s/{token}/document.pdf"' in html and "data-viewer" in html
    assert 'data-testid="share-viewer"' not in html and "rendition-pending" not in html
    document = buyer.get(f"/s/{token}/document.pdf")
    assert document.status_code == 200 and document.mimetype == "application/pdf"
    assert "attachment" not in document.headers.get("Content-Disposition", "")
    assert pdf_slide_titles(document.data) == SLIDES  # as many pages as slides, in the deck's order
    # Page N of the PDF is slide N of the deck: the beacon lands on the library page it shows.
    beacon(buyer, token, [{"number": 3, "seconds": 7}])
    row = db.session.scalar(select(SharePageView))
    assert (row.number, row.asset_id, row.page_number) == (3, library["a"].id, 3)
    # The pictures stay reachable (the fallback), nothing beyond the deck.
    assert buyer.get(f"/s/{token}/pages/3.png").status_code == 200
    assert buyer.get(f"/s/{token}/pages/4.png").status_code == 404
    assert app.test_client().get(f"/s/{token}/document.pdf").status_code == 404  # no visit, no PDF


def test_a_changed_deck_is_never_served_its_old_pdf(app, client, auth, library):
    rep = library["rep"]
    headers = auth.token(rep)
    deck = make_deck(client, headers, library)
    token = token_of(share(client, headers, deck_id=deck["id"]))
    old = build_of(deck["id"])
    old_key = old.pdf_key
    buyer = open_as_buyer(app, token)
    assert buyer.get(f"/s/{token}/document.pdf").status_code == 200

    pa = library["pa"]
    changed = client.put(f"/api/v1/decks/{deck['id']}", json={"title": "Acme kickoff",
                                                              "page_ids": [pa[1].id, pa[0].id]}, headers=headers)
    assert changed.status_code == 200
    # The kept PDF is of another revision: not served, and the page falls back to the new slides.
    assert buyer.get(f"/s/{token}/document.pdf").status_code == 404
    assert client.get(f"/api/v1/decks/{deck['id']}/build", headers=headers).get_json()["rendition"]["status"] == "none"
    html = buyer.get(f"/s/{token}").get_data(as_text=True)  # opening the page asks for the new one
    assert f'data-src="/s/{token}/document.pdf"' in html
    assert pdf_slide_titles(buyer.get(f"/s/{token}/document.pdf").data) == ["Deck A slide 2", "Deck A slide 1"]
    assert not get_storage().exists(old_key)  # only the newest revision's files are kept


def test_pictures_while_the_pdf_is_being_made(app, client, auth, library):
    rep = library["rep"]
    headers = auth.token(rep)
    deck = make_deck(client, headers, library)
    assert client.get(f"/api/v1/decks/{deck['id']}/download", headers=headers).status_code == 200
    build = build_of(deck["id"])
    assert build.pdf_status is None  # a download alone makes no PDF
    # Asked for, on a queue whose worker has not got to it yet.
    build.pdf_status, build.pdf_requested_at = "pending", utcnow()
    db.session.commit()
    token = token_of(share(client, headers, deck_id=deck["id"]))
    buyer = open_as_buyer(app, token)
    html = buyer.get(f"/s/{token}").get_data(as_text=True)
    assert 'data-testid="share-viewer"' in html and 'data-pages="3"' in html
    assert f'data-rendition-poll="/s/{token}/document.pdf"' in html and "rendition.js" in html
    waiting = buyer.get(f"/s/{token}/document.pdf")
    assert waiting.status_code == 202 and waiting.headers["Retry-After"] == "5"
    auth.login(rep)
    assert client.get(f"/decks/{deck['id']}/preview.pdf").status_code == 202
    view = client.get(f"/decks/{deck['id']}/view").get_data(as_text=True)
    assert "data-rendition-poll" in view and 'data-testid="deck-view-slides"' in view and "data-viewer" not in view
    api = client.get(f"/api/v1/decks/{deck['id']}/preview", headers=headers)
    assert api.status_code == 202 and api.get_json()["rendition"] == {"status": "pending", "pages": None,
                                                                      "error": None}

    renditions.render(build.id)  # the worker's turn
    assert buyer.get(f"/s/{token}/document.pdf").status_code == 200
    assert "data-rendition-poll" not in buyer.get(f"/s/{token}").get_data(as_text=True)
    assert client.get(f"/decks/{deck['id']}/preview.pdf").status_code == 200


def test_a_pdf_that_cannot_be_made_keeps_the_pictures_and_the_reason(app, client, auth, library):
    rep = library["rep"]
    headers = auth.token(rep)
    deck = make_deck(client, headers, library)
    assert client.get(f"/api/v1/decks/{deck['id']}/download", headers=headers).status_code == 200
    # LibreOffice given no time at all: a real timeout (soffice stopped, or never given a profile slot).
    app.config["SETTINGS"] = replace(app.config["SETTINGS"], deck_timeout_seconds=0.01)
    token = token_of(share(client, headers, deck_id=deck["id"]))
    build = build_of(deck["id"])
    assert build.pdf_status == "failed" and "could not be made readable" in build.pdf_error
    assert build.status == "ready"  # the deck itself is still there to download

    buyer = open_as_buyer(app, token)
    html = buyer.get(f"/s/{token}").get_data(as_text=True)
    assert html and 'data-testid="share-viewer"' in html and "rendition-pending" not in html
    assert buyer.get(f"/s/{token}/document.pdf").status_code == 404
    assert buyer.get(f"/s/{token}/pages/1.png").status_code == 200
    state = client.get(f"/api/v1/decks/{deck['id']}/build", headers=headers).get_json()["rendition"]
    assert state["status"] == "failed" and "could not be made readable" in state["error"]
    api = client.get(f"/api/v1/decks/{deck['id']}/preview", headers=headers)
    assert api.status_code == 404 and "could not be made readable" in api.get_data(as_text=True)
    auth.login(rep)
    view = client.get(f"/decks/{deck['id']}/view")
    assert view.status_code == 200
    text = view.get_data(as_text=True)
    assert "cannot be shown in the viewer" in text and "could not be made readable" in text and "data-rendition-poll" not in text
    assert client.get(f"/decks/{deck['id']}/preview.pdf").status_code == 404


def test_the_rep_reads_their_own_deck_in_the_viewer_and_no_one_else_does(app, client, auth, library):
    rep, other = library["rep"], library["other"]
    deck = make_deck(client, auth.token(rep), library)
    auth.login(rep)
    edit = client.get(f"/decks/{deck['id']}").get_data(as_text=True)
    assert f'href="/decks/{deck["id"]}/view"' in edit
    view = client.get(f"/decks/{deck['id']}/view")
    assert view.status_code == 200
    html = view.get_data(as_text=True)
    assert f'data-src="/decks/{deck["id"]}/preview.pdf"' in html and "data-viewer" in html
    pdf = client.get(f"/decks/{deck['id']}/preview.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf_slide_titles(pdf.data) == SLIDES
    assert "Acme kickoff.pdf" in pdf.headers["Content-Disposition"]
    headers = auth.token(rep)
    state = client.get(f"/api/v1/decks/{deck['id']}/build", headers=headers).get_json()["rendition"]
    assert state == {"status": "ready", "pages": 3, "error": None}
    assert pdf_slide_titles(client.get(f"/api/v1/decks/{deck['id']}/preview", headers=headers).data) == SLIDES

    auth.logout()
    auth.login(other)
    assert client.get(f"/decks/{deck['id']}/view").status_code == 404
    assert client.get(f"/decks/{deck['id']}/preview.pdf").status_code == 404
    assert client.get(f"/api/v1/decks/{deck['id']}/preview", headers=auth.token(other)).status_code == 404


@pytest.mark.parametrize("page_ids", ["none", "retired"])
def test_a_deck_that_cannot_be_built_has_a_page_that_says_why(app, client, auth, library, page_ids):
    rep = library["rep"]
    deck = make_deck(client, auth.token(rep), library)
    if page_ids == "none":
        client.put(f"/api/v1/decks/{deck['id']}", json={"title": "Acme kickoff", "page_ids": []},
                   headers=auth.token(rep))
        reason = "no slides"
    else:
        library["a"].status = "retired"
        db.session.commit()
        reason = "retired"
    auth.login(rep)
    view = client.get(f"/decks/{deck['id']}/view")
    assert view.status_code == 200 and reason in view.get_data(as_text=True)
    assert client.get(f"/decks/{deck['id']}/preview.pdf").status_code == 404
    assert client.get(f"/api/v1/decks/{deck['id']}/preview", headers=auth.token(rep)).status_code == 404
