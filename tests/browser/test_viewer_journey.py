"""Issue 16's reading journey in Chromium, at 1366x768 and 390x844: a rep searches, opens a
slide hit in the viewer at that slide with the terms highlighted, pages through with the
keyboard, and a marketer sees that attention per page on the asset's analytics; the viewer
opens real PDFs and decks with the right number of pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from assets.deck_builder import SlideRef, build_deck
from assets.sample_files import make_pdf, make_pptx
from tests.assets.deck_fixtures import make_blue_deck, make_green_deck
from tests.browser.conftest import sign_in
from tests.tooling import require_executable

SCREENS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


def _shown(page, number: int) -> None:
    page.wait_for_selector(f"[data-viewer][data-rendered='{number}']")
    assert page.locator("[data-viewer-page]").input_value() == str(number)


def _drawn(page) -> bool:
    """The page's canvas has something other than white on it."""
    return page.evaluate("""() => {
        const canvas = document.querySelector('[data-viewer-pagebox] canvas');
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < pixels.length; i += 4) {
            if (pixels[i] < 200 || pixels[i + 1] < 200 || pixels[i + 2] < 200) return true;
        }
        return false;
    }""")


@pytest.mark.parametrize("screen", SCREENS)
def test_rep_reads_a_slide_hit_pages_with_keys_and_attention_reaches_analytics(new_page, factories, tmp_path,
                                                                               screen):
    require_executable("soffice", "apt-get install -y libreoffice-impress-nogui")
    marketer = factories.user("marketer", email="mia@example.com")
    factories.user("rep", email="rosa@example.com")
    deck = Path(make_pptx(str(tmp_path / "pricing.pptx"), [
        {"title": "Hospital pricing tiers", "bullets": ["Per-bed pricing for hospitals"]},
        {"title": "Payback in nine months", "bullets": ["Payback for hospital networks"]},
        {"title": "Next steps", "bullets": ["Pilot in one ward"]},
        {"title": "Appendix", "bullets": ["Assumptions"]},
    ]))
    asset = factories.asset(marketer, title="Healthcare pricing", content_type="deck", filename="pricing.pptx",
                            content=deck.read_bytes())

    page = new_page()
    page.set_viewport_size(SCREENS[screen])
    sign_in(page, "rosa@example.com")
    page.goto("/search")
    page.fill("main input[name=q]", "payback")
    page.press("main input[name=q]", "Enter")
    page.click("a[data-tab=slides]")
    page.wait_for_url("**tab=slides*")
    page.locator(".pages .tile a.thumb").first.click()

    # The viewer opens at slide 2 with the search term marked on it.
    page.wait_for_url(f"**/assets/{asset.id}/view?page=2&q=payback")
    _shown(page, 2)
    assert page.locator("[data-viewer-count]").inner_text() == "4"
    assert page.locator("[data-viewer-status]").inner_text() == "Page 2 of 4"
    hits = page.locator("mark.viewer-hit")
    assert hits.count() == 2 and hits.first.inner_text().lower() == "payback"
    assert page.locator("[data-viewer-hit-count]").inner_text() == "2 matches on this page"
    assert _drawn(page)
    # The text layer holds the slide's words, so they can be selected.
    assert "Payback in nine months" in page.locator("[data-viewer-pagebox] .textLayer").inner_text()
    viewer = page.locator("[data-viewer]")
    viewer.wait_for(state="visible")
    box = viewer.bounding_box()  # the viewer fits the screen's width (None would mean it is not shown)
    assert box is not None, "the viewer is not shown"
    assert box["x"] >= 0 and box["x"] + box["width"] <= SCREENS[screen]["width"]

    # Keys page through: arrows, Page Up/Down, Home and End.
    page.locator("[data-viewer-stage]").focus()
    page.keyboard.press("ArrowRight")
    _shown(page, 3)
    assert page.locator("[data-viewer-hit-count]").inner_text() == "No match on this page"
    page.keyboard.press("End")
    _shown(page, 4)
    page.keyboard.press("Home")
    _shown(page, 1)
    page.keyboard.press("PageDown")
    _shown(page, 2)
    assert page.url.endswith("page=2&q=payback")
    page.wait_for_timeout(1500)  # read slide 2 for a while
    page.keyboard.press("ArrowLeft")
    _shown(page, 1)

    # The rail of thumbnails: one per slide, the current one marked; it opens a slide.
    toggle = page.locator("[data-viewer-rail-toggle]")
    if toggle.get_attribute("aria-expanded") == "false":  # folded away on a phone
        toggle.click()
    thumbs = page.locator("[data-viewer-thumbs] button")
    assert thumbs.count() == 4
    assert page.locator("[data-viewer-thumbs] button[aria-current=page]").get_attribute("aria-label") == "Page 1"
    page.click("[data-viewer-thumbs] button[aria-label='Page 3']")
    _shown(page, 3)

    # Zoom in and back to fit.
    width = page.locator("[data-viewer-pagebox]").bounding_box()["width"]
    page.click("[data-viewer-zoom-in]")
    expect(page.locator("[data-viewer-zoom]")).to_have_text("125%")
    assert page.locator("[data-viewer-pagebox]").bounding_box()["width"] > width + 10
    page.click("[data-viewer-fit]")
    expect(page.locator("[data-viewer-zoom]")).to_have_text("Fit")

    # Present: the viewer takes the whole screen; Escape leaves.
    page.click("[data-viewer-present]")
    expect(page.locator("[data-viewer-present]")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("() => document.fullscreenElement.matches('[data-viewer]')")
    page.keyboard.press("ArrowRight")
    _shown(page, 4)
    page.evaluate("() => document.exitFullscreen()")
    expect(page.locator("[data-viewer-present]")).to_have_attribute("aria-pressed", "false")

    # Leaving the page sends what is left (keepalive beacon on pagehide).
    page.goto(f"/assets/{asset.id}")
    assert page.locator("[data-testid=read]").inner_text() == "Read"

    staff = new_page()
    staff.set_viewport_size(SCREENS[screen])
    sign_in(staff, "mia@example.com")
    for _ in range(20):  # the beacon may still be on its way
        staff.goto(f"/analytics/assets/{asset.id}")
        if staff.locator("[data-testid=attention-table]").count():
            break
        staff.wait_for_timeout(250)
    rows = staff.locator("[data-testid=attention-table] tbody tr")
    assert rows.count() == 4
    cells = rows.nth(1).locator("td").all_inner_texts()
    assert cells[:2] == ["2", "Payback in nine months"] and cells[3] == "1"
    assert int(cells[2].split()[0]) >= 1  # at least the 1.5 s spent on slide 2
    assert staff.locator("#attention-chart").is_visible()


def test_viewer_opens_real_pdfs_and_decks_with_every_page(new_page, factories, tmp_path):
    """At both screen sizes (one test: the deck is converted by LibreOffice once)."""
    require_executable("soffice", "apt-get install -y libreoffice-impress-nogui")
    marketer = factories.user("marketer")
    factories.user("rep", email="rosa@example.com")
    pdf = Path(make_pdf(str(tmp_path / "handbook.pdf"), [
        {"title": f"Section {n}", "lines": [f"Handbook text of section {n}"]} for n in range(1, 13)]))
    blue, green = make_blue_deck(str(tmp_path / "blue.pptx")), make_green_deck(str(tmp_path / "green.pptx"))
    deck = tmp_path / "mixed.pptx"  # pictures, charts, a table, a group, two masters
    build_deck([SlideRef(blue, 1), SlideRef(green, 1), SlideRef(blue, 2), SlideRef(green, 3), SlideRef(blue, 3)],
               str(deck))
    items = [(factories.asset(marketer, title="Handbook", filename="handbook.pdf", content=pdf.read_bytes()), 12),
             (factories.asset(marketer, title="Mixed deck", filename="mixed.pptx", content=deck.read_bytes()), 5)]

    page = new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Nothing refused by the Content-Security-Policy (no eval, the worker from 'self'), no warnings.
    page.on("console", lambda message: errors.append(message.text) if message.type in ("error", "warning") else None)
    sign_in(page, "rosa@example.com")
    for (asset, pages), screen in [(item, screen) for screen in SCREENS for item in items]:
        page.set_viewport_size(SCREENS[screen])
        page.goto(f"/assets/{asset.id}")
        page.click("[data-testid=read]")
        _shown(page, 1)
        assert page.locator("[data-viewer]").get_attribute("data-page-count") == str(pages)
        assert page.locator("[data-viewer-count]").inner_text() == str(pages)
        assert page.locator("[data-viewer-thumbs] button").count() == pages
        assert _drawn(page)
        page.click("[data-viewer-next]")
        _shown(page, 2)
        page.keyboard.press("End")
        _shown(page, pages)
        assert page.locator("[data-viewer-next]").is_disabled()
        assert _drawn(page)
    # Search syntax is not highlighted, its words are: "section" twice and "handbook" on page 3.
    page.goto(f"/assets/{items[0][0].id}/view?page=3&q=%22section+3%22+title:handbook+AND+x")
    _shown(page, 3)
    assert sorted(page.locator("mark.viewer-hit").all_inner_texts()) == ["Handbook", "Section", "section"]
    expect(page.locator("[data-viewer-hit-pages]")).to_have_text("Found on 12 pages")
    page.click("[data-viewer-next-hit]")
    _shown(page, 4)
    assert errors == []


def test_viewer_reads_the_pdf_from_s3_through_a_presigned_url(browser, settings, seaweedfs_s3,
                                                              s3_bucket_on_seaweedfs, tmp_path):
    """On S3 the viewer's PDF comes straight from the bucket (302 to a presigned URL)."""
    import threading
    from dataclasses import replace

    from werkzeug.serving import make_server

    from portal import create_app

    s3_settings = replace(settings, storage_backend="s3", s3_bucket=s3_bucket_on_seaweedfs,
                          s3_endpoint_url=seaweedfs_s3["endpoint_url"], s3_prefix="viewer-browser")
    app = create_app(s3_settings, TESTING=True, AUTO_MIGRATE=False, START_EMBEDDED_WORKER=False)
    pdf = Path(make_pdf(str(tmp_path / "remote.pdf"), [
        {"title": f"Remote page {n}", "lines": [f"stored in the bucket, page {n}"]} for n in range(1, 8)]))
    with app.app_context():
        from portal.admin.services import save_user
        from portal.library.services import create_asset

        marketer, _ = save_user("s3-browser-marketer@example.com", role="marketer",
                                password="correct-horse-battery")
        save_user("s3-browser-rep@example.com", role="rep", password="correct-horse-battery")
        with open(pdf, "rb") as stream:
            asset_id = create_asset(marketer, stream, "remote.pdf", {"title": "Remote"}, 10 ** 8).asset.id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    context = browser.new_context(base_url=f"http://127.0.0.1:{server.server_port}",
                                  viewport=SCREENS["desktop"])
    try:
        page = context.new_page()
        pdf_requests: list[str] = []
        page.on("requestfinished", lambda request: pdf_requests.append(request.url)
                if request.url.startswith(seaweedfs_s3["endpoint_url"]) else None)
        sign_in(page, "s3-browser-rep@example.com")
        page.goto(f"/assets/{asset_id}/view?page=5")
        _shown(page, 5)
        assert page.locator("[data-viewer-count]").inner_text() == "7"
        assert "Remote page 5" in page.locator("[data-viewer-pagebox] .textLayer").inner_text()
        assert _drawn(page)
        assert pdf_requests, "the PDF came from the bucket"
    finally:
        context.close()
        server.shutdown()
        thread.join(timeout=5)


def test_attention_stops_counting_when_the_reader_is_idle(new_page, factories, tmp_path):
    """Seconds count while a page is shown, up to two minutes after the last key, pointer or
    scroll (the page clock is fast-forwarded; nothing waits for real)."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import PageAttention

    factories.user("rep", email="rosa@example.com")
    pdf = Path(make_pdf(str(tmp_path / "short.pdf"), [{"title": "One", "lines": ["first"]},
                                                       {"title": "Two", "lines": ["second"]}]))
    asset = factories.asset(factories.user("marketer"), title="Short", filename="short.pdf", content=pdf.read_bytes())
    page = new_page()
    page.set_viewport_size(SCREENS["desktop"])
    sign_in(page, "rosa@example.com")
    page.clock.install()
    page.goto(f"/assets/{asset.id}/view")
    _shown(page, 1)
    page.clock.run_for(20_000)                  # reads page 1 for 20 s, no input ...
    page.keyboard.press("ArrowRight")           # ... turns the page,
    _shown(page, 2)
    page.clock.run_for(10 * 60_000)             # then leaves the screen alone for 10 minutes
    page.goto(f"/assets/{asset.id}")            # leaving sends the beacon
    seconds = {}
    for _ in range(40):
        db.session.rollback()
        seconds = {row.number: row.seconds for row in db.session.scalars(
            select(PageAttention).where(PageAttention.asset_id == asset.id))}
        if 2 in seconds:
            break
        page.wait_for_timeout(250)
    assert 19 <= seconds[1] <= 22
    assert 119 <= seconds[2] <= 122  # two minutes after the last key, not ten
