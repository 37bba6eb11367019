"""Issue 7's journey in Chromium: a rep searches slides, adds three from two
decks to the tray, opens the deck, reorders it (buttons, then drag and drop),
names it, saves it and downloads one .pptx holding the slides in that order."""

from __future__ import annotations

import io
import re
from pathlib import Path

from pptx import Presentation

from assets.sample_files import make_pptx
from tests.browser.conftest import sign_in


def _deck(tmp_path, name: str, titles: list[str]) -> bytes:
    path = tmp_path / name
    make_pptx(str(path), [{"title": t, "bullets": [f"{t} for the kickoff meeting"]} for t in titles])
    return Path(path).read_bytes()


def test_rep_builds_reorders_and_downloads_a_deck(new_page, factories, tmp_path):
    marketer = factories.user("marketer")
    factories.user("rep", email="rhea@example.com")
    factories.asset(marketer, title="Orbit pitch", content_type="deck", filename="orbit.pptx",
                    content=_deck(tmp_path, "orbit.pptx", ["Orbit overview", "Orbit pricing", "Orbit roadmap"]))
    factories.asset(marketer, title="Nova pitch", content_type="deck", filename="nova.pptx",
                    content=_deck(tmp_path, "nova.pptx", ["Nova overview", "Nova pricing"]))

    page = new_page()
    sign_in(page, "rhea@example.com")
    count = page.locator("[data-testid=tray-count]")
    assert count.inner_text() == "0"

    page.goto("/search?q=kickoff&tab=slides")
    tiles = page.locator(".pages .tile")
    assert tiles.count() == 5
    for n, title in enumerate(["Orbit pricing", "Nova overview", "Orbit roadmap"], start=1):
        tile = tiles.filter(has=page.locator(".title", has_text=re.compile(f"^{title}$")))
        tile.locator("[data-add-slide]").click()
        page.wait_for_function(
            "n => document.querySelector('[data-testid=tray-count]').textContent === String(n)", arg=n)
    assert count.inner_text() == "3"

    page.click("#deck-tray a[data-tray-open]")
    page.wait_for_url(re.compile(r".*/decks/\d+$"))
    slides = page.locator("[data-testid=deck-slide] [data-slide-title]")
    assert slides.all_inner_texts() == ["Orbit pricing", "Nova overview", "Orbit roadmap"]

    # "Orbit roadmap" up twice, with the buttons.
    last = page.locator("[data-testid=deck-slide]").nth(2)
    last.locator("[data-move=up]").click()
    page.locator("[data-testid=deck-slide]").nth(1).locator("[data-move=up]").click()
    assert slides.all_inner_texts() == ["Orbit roadmap", "Orbit pricing", "Nova overview"]
    # Then drag "Orbit pricing" below "Nova overview".
    items = page.locator("[data-testid=deck-slide]")
    items.nth(1).drag_to(items.nth(2), target_position={"x": 20, "y": 60})
    assert slides.all_inner_texts() == ["Orbit roadmap", "Nova overview", "Orbit pricing"]
    assert page.locator("[data-position]").all_inner_texts() == ["1", "2", "3"]

    page.fill("input[name=title]", "Acme kickoff")
    page.click("[data-testid=deck-save]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Acme kickoff"
    assert slides.all_inner_texts() == ["Orbit roadmap", "Nova overview", "Orbit pricing"]
    assert count.inner_text() == "0"  # saved under a name: the next slide starts a new deck

    with page.expect_download() as download_info:
        page.click("[data-testid=deck-download]")
    download = download_info.value
    assert download.suggested_filename == "Acme kickoff.pptx"
    deck = Presentation(io.BytesIO(Path(download.path()).read_bytes()))
    assert [s.shapes.title.text for s in deck.slides] == ["Orbit roadmap", "Nova overview", "Orbit pricing"]

    page.click("header >> text=My decks")
    assert page.locator("[data-testid=deck-list]", has_text="Acme kickoff").count() == 1
