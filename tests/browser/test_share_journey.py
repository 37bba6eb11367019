"""Issue 17's journey in Chromium: a rep (1366x768) shares a saved deck behind an
email gate; the buyer, in a browser of their own (390x844), opens the link, gives
an email and pages through three slides in the PDF viewer (the deck as assembled); the rep sees the visit with those three
pages and the notification (also on a phone-sized screen). The rep shares the
item itself, which a second buyer (1366x768) reads in the PDF viewer; revoking
the deck's link tells its buyer "link revoked"; retiring the item stops it on the
live link."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from assets.sample_files import make_pptx
from portal.decks import renditions
from portal.decks import services as decks
from portal.extensions import db
from portal.library.services import retire_assets
from portal.models import Asset, Page, ShareLink, SharePageView, ShareVisit
from tests.browser.conftest import sign_in

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")


def _context(browser, live_server, viewport, **options):
    context = browser.new_context(base_url=live_server, viewport=viewport, **options)
    context.set_default_timeout(20_000)
    return context


def _reload_until(page, locator, count: int, attempts: int = 40) -> None:
    """The beacon is sent as the buyer leaves; reload the rep's page until it shows."""
    for _ in range(attempts):
        if locator.count() == count:
            return
        page.wait_for_timeout(250)
        page.reload()
    assert locator.count() == count


def read_pages(page, total: int, viewport: dict, pages: int = 3) -> None:
    """A buyer reads the first `pages` pages in the PDF viewer, about a second each."""
    page.wait_for_selector("[data-viewer][data-rendered='1']")
    assert page.locator("[data-viewer-count]").inner_text() == str(total)
    canvas = page.locator("[data-viewer-pagebox] canvas")
    canvas.wait_for(state="visible")
    box = canvas.bounding_box()
    assert box is not None and 200 < box["width"] <= viewport["width"]
    for number in range(2, pages + 1):
        page.wait_for_timeout(1200)  # time spent reading: what the beacon measures
        page.click("[data-viewer-next]")
        page.wait_for_selector(f"[data-viewer][data-rendered='{number}']")
        assert page.locator("[data-viewer-status]").inner_text() == f"Page {number} of {total}"
    page.wait_for_timeout(1200)


def test_rep_shares_a_deck_and_sees_what_the_buyer_read(browser, live_server, factories, tmp_path):
    marketer = factories.user("marketer")
    rep = factories.user("rep", email="rita@example.com", name="Rita Rep")
    path = tmp_path / "orbit.pptx"
    make_pptx(str(path), [{"title": t, "bullets": [f"{t} for Acme"]}
                          for t in ("Orbit overview", "Orbit pricing", "Orbit architecture", "Orbit roadmap")])
    item = factories.asset(marketer, title="Orbit pitch", content_type="deck", filename="orbit.pptx",
                           content=Path(path).read_bytes())
    pages = db.session.query(Page).filter_by(version_id=db.session.get(Asset, item.id).current_version_id) \
        .order_by(Page.number).all()
    assert len(pages) == 4 and all(p.thumbnail_key for p in pages)
    deck = decks.create_deck(rep, "Acme kickoff", [pages[1].id, pages[2].id, pages[3].id, pages[0].id])
    # Assembled and made into a PDF ahead, as the queue's worker does while the rep copies the link
    # (the tests' queue runs inline, so sharing would otherwise wait for LibreOffice in the request).
    assert renditions.prepare(rep, deck).ready

    rep_context = _context(browser, live_server, DESKTOP)
    buyer_context = _context(browser, live_server, PHONE, user_agent=IPHONE, is_mobile=True, has_touch=True)
    reader_context = _context(browser, live_server, DESKTOP)
    try:
        rep_page = rep_context.new_page()
        sign_in(rep_page, "rita@example.com")
        rep_page.click("header >> text=Shared links")
        rep_page.click("text=Share a deck")
        rep_page.select_option("select[name=target]", f"deck:{deck.id}")
        rep_page.fill("input[name=account]", "Acme")
        rep_page.check("input[name=require_email]")
        rep_page.click("button:has-text('Create link')")
        url = rep_page.locator("[data-testid=share-url] input").input_value()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]{43}", url)
        detail_url = rep_page.url

        # The buyer: no account, a phone, the email gate, three slides.
        buyer = buyer_context.new_page()
        buyer.goto(url)
        assert buyer.locator("h1").inner_text() == "Acme kickoff"
        assert "Rita Rep" in buyer.locator("[data-testid=share-sender]").inner_text()
        assert buyer.locator("[data-testid=share-viewer]").count() == 0  # nothing before the gate
        buyer.fill("input[name=email]", "bob@acme.example")
        buyer.click("button:has-text('View')")
        # The deck as assembled, drawn by PDF.js (sharing it had its PDF made).
        read_pages(buyer, 4, PHONE)
        assert buyer.locator("header.top, nav:not(.viewer-rail)").count() == 0  # no portal navigation
        assert not [c for c in buyer_context.cookies() if c["name"] in ("session", "remember_token")]
        buyer.goto("about:blank")  # leaving: the page sends its beacon

        # The rep sees the visit, page by page, and the notification.
        rep_page.goto(detail_url)
        rows = rep_page.locator("[data-testid=visit-page]")
        _reload_until(rep_page, rows, 3)
        visit = rep_page.locator("[data-testid=share-visit]")
        assert "bob@acme.example" in visit.inner_text() and "mobile" in visit.inner_text()
        assert [r.locator("td").first.inner_text() for r in rows.all()] == ["1", "2", "3"]
        assert all(int(r.locator("td").nth(1).inner_text()) >= 1 for r in rows.all())
        rep_page.set_viewport_size(PHONE)
        rep_page.reload()
        assert rows.count() == 3 and rep_page.locator("[data-testid=share-visit]").is_visible()
        rep_page.set_viewport_size(DESKTOP)
        rep_page.goto("/notifications")
        assert rep_page.locator("[data-testid=notification]", has_text="bob@acme.example opened your link to "
                                "“Acme kickoff” for the first time.").count() == 1

        # The rep shares the item itself; a second buyer reads it in the PDF viewer.
        rep_page.goto(f"/assets/{item.id}")
        rep_page.click("text=Share this item")
        rep_page.click("button:has-text('Create link')")
        item_url = rep_page.locator("[data-testid=share-url] input").input_value()
        reader = reader_context.new_page()
        reader.goto(item_url)
        reader.wait_for_function("() => /of 4/.test(document.querySelector('[data-viewer]').textContent)")
        reader.wait_for_selector("[data-viewer][data-rendered='1']")  # page 1 drawn, not only counted
        canvas = reader.locator("[data-viewer-pagebox] canvas")
        canvas.wait_for(state="visible")
        box = canvas.bounding_box()
        assert box is not None and box["width"] > 200
        reader.wait_for_timeout(1500)
        reader.goto("about:blank")  # the viewer's beacon goes to the link's own endpoint
        item_link = db.session.scalar(select(ShareLink).where(ShareLink.asset_id == item.id))
        for _ in range(40):
            db.session.expire_all()
            read = db.session.scalars(select(SharePageView).join(ShareVisit).where(
                ShareVisit.link_id == item_link.id)).all()
            if read:
                break
            reader.wait_for_timeout(250)
        assert [(row.number, row.asset_id) for row in read] == [(1, item.id)] and read[0].seconds >= 1

        # Revoke the deck's link: its buyer is told so.
        rep_page.goto(detail_url)
        rep_page.click("button:has-text('Revoke link')")
        assert rep_page.locator("[data-testid=share-state]").inner_text() == "Revoked"
        response = buyer.goto(url)
        assert response.status == 410
        assert buyer.locator("h1").inner_text() == "Link revoked"

        # The item is retired: the live link no longer serves it.
        retire_assets([db.session.get(Asset, item.id)], marketer, "Replaced by the 2027 pitch")
        response = reader.goto(item_url)
        assert response.status == 410
        assert reader.locator("h1").inner_text() == "Content withdrawn"
        assert "no longer available" in reader.locator("[data-testid=share-message]").inner_text()
        assert reader.locator("[data-viewer]").count() == 0
    finally:
        for context in (rep_context, buyer_context, reader_context):
            context.close()
