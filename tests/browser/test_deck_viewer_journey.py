"""Built decks in the PDF viewer, in Chromium: a buyer on a 1366x768 screen reads a shared
deck drawn by PDF.js and pages through three slides, which the rep then sees; a buyer on a
390x844 screen who opens the link while the deck's PDF is still being made reads the slide
pictures, and the page switches to the viewer by itself once it is made; the rep opens their
own deck in the viewer at both sizes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from assets.sample_files import make_pptx
from portal.decks import building, renditions
from portal.decks import services as decks
from portal.extensions import db
from portal.models import Asset, Page, SharePageView, ShareVisit, utcnow
from portal.sharing import links
from tests.browser.conftest import sign_in
from tests.browser.test_share_journey import DESKTOP, PHONE, _context, _reload_until, read_pages

TITLES = ("Orbit overview", "Orbit pricing", "Orbit architecture", "Orbit roadmap")


def _deck(factories, tmp_path, rep):
    marketer = factories.user("marketer")
    path = tmp_path / "orbit.pptx"
    make_pptx(str(path), [{"title": t, "bullets": [f"{t} for Acme"]} for t in TITLES])
    item = factories.asset(marketer, title="Orbit pitch", content_type="deck", filename="orbit.pptx",
                           content=Path(path).read_bytes())
    pages = db.session.query(Page).filter_by(version_id=db.session.get(Asset, item.id).current_version_id) \
        .order_by(Page.number).all()
    return item, pages, decks.create_deck(rep, "Acme kickoff", [pages[1].id, pages[2].id, pages[3].id, pages[0].id])


def _share(rep, deck) -> str:
    link, token = links.create_link(rep, links.parse_options({"deck_id": deck.id}, default_days=30))
    return link, f"/s/{token}"


def test_a_buyer_reads_a_shared_deck_in_the_pdf_viewer(browser, live_server, factories, tmp_path):
    rep = factories.user("rep", email="rita@example.com", name="Rita Rep")
    item, pages, deck = _deck(factories, tmp_path, rep)
    link, url = _share(rep, deck)
    buyer_context = _context(browser, live_server, DESKTOP)
    rep_context = _context(browser, live_server, DESKTOP)
    try:
        buyer = buyer_context.new_page()
        buyer.goto(url)
        assert buyer.locator("h1").inner_text() == "Acme kickoff"
        assert buyer.locator("[data-testid=share-viewer]").count() == 0  # the PDF, not the pictures
        read_pages(buyer, 4, DESKTOP)
        assert "Orbit roadmap" in buyer.locator("[data-viewer-pagebox] .textLayer").inner_text()
        buyer.goto("about:blank")  # leaving: the viewer sends its beacon

        # Page N of the deck is its slide N: the deck's pages 1-3 are the item's slides 2-4.
        for _ in range(40):
            db.session.expire_all()
            read = db.session.scalars(select(SharePageView).join(ShareVisit).where(ShareVisit.link_id == link.id)
                                      .order_by(SharePageView.number)).all()
            if len(read) == 3:
                break
            buyer.wait_for_timeout(250)
        assert [(r.number, r.asset_id, r.page_number) for r in read] == [(1, item.id, 2), (2, item.id, 3),
                                                                          (3, item.id, 4)]
        rep_page = rep_context.new_page()
        sign_in(rep_page, "rita@example.com")
        rep_page.goto(f"/shares/{link.id}")
        rows = rep_page.locator("[data-testid=visit-page]")
        _reload_until(rep_page, rows, 3)
        assert [r.locator("td").first.inner_text() for r in rows.all()] == ["1", "2", "3"]
    finally:
        buyer_context.close()
        rep_context.close()


def test_the_pictures_until_the_pdf_is_made_then_the_viewer(browser, live_server, factories, tmp_path):
    rep = factories.user("rep", email="rita@example.com", name="Rita Rep")
    _, _, deck = _deck(factories, tmp_path, rep)
    build = building.request_build(rep, deck)  # assembled (a download), no PDF asked for yet
    assert build.status == "ready" and build.pdf_status is None
    build.pdf_status, build.pdf_requested_at = "pending", utcnow()  # asked for; the worker is busy
    db.session.commit()
    _, url = _share(rep, deck)
    context = _context(browser, live_server, PHONE, is_mobile=True, has_touch=True)
    try:
        buyer = context.new_page()
        buyer.goto(url)
        assert buyer.locator("[data-testid=viewer-status]").inner_text() == "Page 1 of 4"
        assert buyer.locator("[data-testid=rendition-pending]").is_visible()
        assert buyer.locator("[data-viewer]").count() == 0
        renditions.render(build.id)  # the worker gets to it
        buyer.wait_for_selector("[data-viewer][data-rendered='1']")  # the page reloaded itself
        assert buyer.locator("[data-testid=rendition-pending]").count() == 0
        read_pages(buyer, 4, PHONE, pages=2)
    finally:
        context.close()


def test_a_rep_opens_their_deck_in_the_viewer(browser, live_server, factories, tmp_path):
    rep = factories.user("rep", email="rita@example.com", name="Rita Rep")
    _, _, deck = _deck(factories, tmp_path, rep)
    context = _context(browser, live_server, DESKTOP)
    try:
        page = context.new_page()
        sign_in(page, "rita@example.com")
        page.goto(f"/decks/{deck.id}")
        page.click("[data-testid=deck-view]")
        # Immediate queue in tests: the first view assembles the deck and makes its PDF in the request.
        page.wait_for_url(f"**/decks/{deck.id}/view**", timeout=120_000)
        read_pages(page, 4, DESKTOP, pages=2)
        assert "Orbit architecture" in page.locator("[data-viewer-pagebox] .textLayer").inner_text()
        page.set_viewport_size(PHONE)
        page.goto(f"/decks/{deck.id}/view")
        read_pages(page, 4, PHONE, pages=3)
        assert "Orbit roadmap" in page.locator("[data-viewer-pagebox] .textLayer").inner_text()
    finally:
        context.close()
