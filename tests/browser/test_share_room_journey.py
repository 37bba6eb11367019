"""Rooms in Chromium, at 1366x768 and at 390x844: a rep shares a collection of two
items behind an email gate from the collection's page; the buyer, in a browser of
their own, passes the gate, sees the room, opens item 2 in the viewer and pages
through its two pages; the rep's link page shows the visit with item 2's pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assets.sample_files import make_pdf
from portal.extensions import db
from portal.models import Collection, CollectionItem
from tests.browser.conftest import sign_in
from tests.browser.test_share_journey import (
    DESKTOP,
    IPHONE,
    PHONE,
    _context,
    _reload_until,
    create_gated_link,
    read_pages,
)


def _pdf(factories, owner, tmp_path, title: str, pages: int):
    path = Path(make_pdf(str(tmp_path / f"{title}.pdf"), [
        {"title": f"{title}, page {n}", "lines": [f"{title} detail {n}"]} for n in range(1, pages + 1)]))
    return factories.asset(owner, title=title, filename=f"{title}.pdf", content=path.read_bytes())


def _fits(page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366x768", "390x844"])
def test_rep_shares_a_room_and_sees_the_pages_of_the_item_read(browser, live_server, factories, tmp_path, viewport):
    marketer = factories.user("marketer")
    rep = factories.user("rep", email="rita@example.com", name="Rita Rep")
    pricing = _pdf(factories, marketer, tmp_path, "Pricing guide", 3)
    security = _pdf(factories, marketer, tmp_path, "Security overview", 2)
    collection = Collection(owner_id=rep.id, title="Acme evaluation", items=[
        CollectionItem(asset_id=pricing.id, position=1), CollectionItem(asset_id=security.id, position=2)])
    db.session.add(collection)
    db.session.commit()

    phone = viewport == PHONE
    rep_context = _context(browser, live_server, viewport)
    buyer_context = _context(browser, live_server, viewport, **(
        {"user_agent": IPHONE, "is_mobile": True, "has_touch": True} if phone else {}))
    try:
        rep_page = rep_context.new_page()
        sign_in(rep_page, "rita@example.com")
        rep_page.goto(f"/collections/{collection.id}")
        rep_page.click("[data-testid=share-collection]")
        assert rep_page.locator("select[name=target] option:checked").inner_text() == \
            "Collection: Acme evaluation (2 items)"
        url, detail_url = create_gated_link(rep_page)

        buyer = buyer_context.new_page()
        buyer.goto(url)
        assert buyer.locator("[data-testid=room-items]").count() == 0  # nothing before the gate
        buyer.fill("input[name=email]", "bob@acme.example")
        buyer.click("button:has-text('View')")
        items = buyer.locator("[data-testid=room-item]")
        items.first.wait_for(state="visible")
        assert buyer.locator("h1").inner_text() == "Acme evaluation"
        assert "Rita Rep" in buyer.locator("[data-testid=share-sender]").inner_text()
        assert buyer.locator("header.top, nav").count() == 0  # no portal navigation
        assert items.count() == 2
        assert "3 pages" in items.nth(0).inner_text() and "2 pages" in items.nth(1).inner_text()
        buyer.wait_for_function("() => [...document.querySelectorAll('.room-thumb img')]"
                                ".every(img => img.complete && img.naturalWidth > 0)")
        _fits(buyer)

        buyer.click("[data-testid=room-item] >> text=Security overview")
        buyer.wait_for_url(re.compile(r"/items/2$"))
        read_pages(buyer, 2, viewport, pages=2)
        _fits(buyer)
        assert not [c for c in buyer_context.cookies() if c["name"] in ("session", "remember_token")]
        buyer.goto("about:blank")  # leaving: the viewer sends its beacon

        rep_page.goto(detail_url)
        rows = rep_page.locator("[data-testid=visit-page]")
        _reload_until(rep_page, rows, 2)
        visit = rep_page.locator("[data-testid=share-visit]")
        assert "bob@acme.example" in visit.inner_text()
        cells = [[cell.inner_text() for cell in row.locator("td").all()] for row in rows.all()]
        assert [(title, number) for title, number, _ in cells] == [("Security overview", "1"),
                                                                   ("Security overview", "2")]
        assert all(int(seconds) >= 1 for _, _, seconds in cells)
        assert rep_page.locator("[data-testid=room-contents]").is_visible()
        _fits(rep_page)
    finally:
        for context in (rep_context, buyer_context):
            context.close()
