"""Issue 18's journey in Chromium, at a laptop's and a phone's size: a rep adds a
4:3 slide and a 16:9 slide to the tray (the button then says "In deck", and adding
it again asks first), sees the size notice in the editor, names and downloads the
deck, and every slide of the file is whole (fitted, nothing off the slide). When
the marketer's new version replaces the 16:9 slide, the rep is told which slide,
where, and what replaced it."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pptx import Presentation

from portal.extensions import db
from portal.library.services import add_version
from tests.browser.conftest import sign_in
from tests.support.lineage_decks import base_slides, write_deck
from tests.support.sized_decks import LOOKS, SIZES, make_sized_deck


def _walk(shapes):
    for shape in shapes:
        yield shape
        if shape.shape_type == 6:  # a group: its children sit in its own space
            continue


@pytest.mark.parametrize("viewport", [(1366, 768), (390, 844)], ids=["laptop", "phone"])
def test_rep_builds_a_mixed_size_deck_and_hears_of_a_changed_slide(new_page, factories, tmp_path, viewport):
    marketer = factories.user("marketer")
    factories.user("rep", email="rhea@example.com")
    sand = factories.asset(marketer, title="Sand deck", content_type="deck", filename="sand.pptx",
                           content=Path(make_sized_deck(str(tmp_path / "sand.pptx"), "4:3", **LOOKS["4:3"])).read_bytes())
    navy = factories.asset(marketer, title="Navy deck", content_type="deck", filename="navy.pptx",
                           content=Path(make_sized_deck(str(tmp_path / "navy.pptx"), "16:9",
                                                        **LOOKS["16:9"])).read_bytes())

    page = new_page()
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    sign_in(page, "rhea@example.com")
    page.goto(f"/assets/{sand.id}")
    add = page.locator("#page-2 [data-add-slide]")
    add.click()
    page.wait_for_function("() => document.querySelector('[data-testid=tray-count]').textContent === '1'")
    assert "In deck" in add.inner_text()  # and it stays so
    page.wait_for_timeout(1700)
    assert "In deck" in add.inner_text()
    add.click()  # again: the tray says it is already there and asks
    message = page.locator("[data-testid=tray-message]")
    message.locator("text=already in the deck in progress (slide 1)").wait_for()
    assert page.locator("[data-testid=tray-add-again]").is_visible()
    assert page.locator("[data-testid=tray-count]").inner_text() == "1"

    page.goto(f"/assets/{navy.id}")
    page.locator("#page-1 [data-add-slide]").click()
    page.wait_for_function("() => document.querySelector('[data-testid=tray-count]').textContent === '2'")
    notice = page.locator("[data-testid=tray-size-notice]")
    assert notice.is_visible() and "Mixed slide sizes: fitted to 4:3" in notice.inner_text()
    assert "Navy deck" in notice.get_attribute("title")

    page.click("#deck-tray a[data-tray-open]")
    page.wait_for_url(re.compile(r".*/decks/\d+$"))
    size_notice = page.locator("[data-testid=size-notice]")
    assert size_notice.is_visible()
    assert "Slide 2 (“Navy deck”) is 16:9; it will be fitted to 4:3" in size_notice.inner_text()
    assert "This deck is 4:3" in page.locator("[data-testid=deck-size-label]").inner_text()
    page.fill("input[name=title]", "Acme pricing")
    page.click("[data-testid=deck-save]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Acme pricing"

    with page.expect_download(timeout=60_000) as download_info:
        page.click("[data-testid=deck-download]")
    deck = Presentation(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    width, height = deck.slide_width, deck.slide_height
    assert (width, height) == SIZES["4:3"]
    assert [s.shapes.title.text for s in deck.slides] == ["Sand: table and chart", "Navy: pricing tiers"]
    for slide in deck.slides:  # every slide whole: each shape placed on the slide
        for shape in _walk(slide.shapes):
            if shape.left is None:
                continue  # inherits its place from the layout, itself fitted
            assert shape.left >= 0 and shape.top >= 0, shape.name
            assert shape.left + shape.width <= width and shape.top + shape.height <= height, shape.name
    texts = " ".join(s.text_frame.text for s in deck.slides[1].shapes if s.has_text_frame)
    assert "Price per bed / month" in texts and "Enterprise: custom" in texts

    # The marketer replaces Navy's first slide in a new version.
    replacement = base_slides(2)
    with open(write_deck(str(tmp_path / "navy2.pptx"), replacement), "rb") as stream:
        add_version(db.session.get(type(navy), navy.id), marketer, stream, "navy2.pptx", 10**8)
    page.goto("/notifications")
    told = page.locator("[data-testid=notification]", has_text="Navy: pricing tiers")
    assert told.count() == 1
    text = told.inner_text()
    assert "slide 1 of “Navy deck”" in text and "changed in version 2" in text
    assert f"replaced by slide 1 “{replacement[0]['title']}”" in text
    assert "saved deck “Acme pricing” holds an older copy as slide 2" in text
