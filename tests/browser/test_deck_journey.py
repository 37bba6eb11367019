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


def test_download_shows_progress_until_the_queue_has_assembled_the_deck(browser, settings, factories, tmp_path):
    """Issue 13: the deck is assembled by the queue; the page says so in its live status
    while it polls, and downloads the file once it is ready."""
    import threading
    import uuid
    from dataclasses import replace

    from werkzeug.serving import make_server

    from portal import create_app
    from portal.extensions import db
    from portal.models import Deck, DeckSlide, Page

    marketer = factories.user("marketer")
    rep_id = factories.user("rep", email="quinn@example.com").id
    asset = factories.asset(marketer, title="Orbit pitch", content_type="deck", filename="orbit.pptx",
                            content=_deck(tmp_path, "orbit.pptx", ["Orbit overview", "Orbit pricing"]))
    pages = list(db.session.scalars(db.select(Page).where(Page.version_id == asset.current_version_id)
                                    .order_by(Page.number)))
    deck = Deck(owner_id=rep_id, title="Queued kickoff",
                slides=[DeckSlide(position=1, page_id=pages[1].id), DeckSlide(position=2, page_id=pages[0].id)])
    db.session.add(deck)
    db.session.commit()

    # The same database served with the embedded queue, its consumer not started yet.
    queued = create_app(replace(settings, queue_mode="embedded", deck_wait_seconds=0), TESTING=True,
                        AUTO_MIGRATE=False, START_EMBEDDED_WORKER=False, QUEUE_NAME=f"journey-{uuid.uuid4().hex[:8]}")
    server = make_server("127.0.0.1", 0, queued, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    context = browser.new_context(base_url=f"http://127.0.0.1:{server.server_port}", accept_downloads=True)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        sign_in(page, "quinn@example.com")
        page.goto(f"/decks/{deck.id}")
        status = page.locator("[data-testid=deck-build-status]")
        assert status.get_attribute("role") == "status" and status.get_attribute("aria-live") == "polite"
        page.click("[data-testid=deck-download]")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=deck-build-status]').textContent.includes('assemble')")
        assert "Waiting to assemble the deck" in status.inner_text()
        assert page.locator("[data-deck-build-progress]").is_visible()

        with page.expect_download(timeout=120_000) as download_info:
            queued.extensions["collateral_queue"].start_embedded_consumer()
        download = download_info.value
        assert download.suggested_filename == "Queued kickoff.pptx"
        result = Presentation(io.BytesIO(Path(download.path()).read_bytes()))
        assert [s.shapes.title.text for s in result.slides] == ["Orbit pricing", "Orbit overview"]
        assert "ready" in status.inner_text()
    finally:
        context.close()
        server.shutdown()
        thread.join(timeout=10)
