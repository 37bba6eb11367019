"""Issue 2's journey in Chromium: a marketer uploads a PPTX with metadata and
sees it in the library; a rep finds it, downloads it and cannot upload."""

from __future__ import annotations

import re
from pathlib import Path

from assets.sample_files import make_pptx
from tests.browser.conftest import sign_in


def test_marketer_uploads_rep_finds_and_downloads(new_page, factories, tmp_path):
    marketer = factories.user("marketer", email="mara@example.com")
    factories.user("rep", email="ravi@example.com")
    deck = make_pptx(str(tmp_path / "pricing-2027.pptx"), [
        {"title": "Hospital pricing 2027", "bullets": ["Per-bed pricing"], "notes": "Lead with ROI"},
        {"title": "Volume tiers", "bullets": ["Essentials", "Enterprise"]},
    ])

    page = new_page()
    sign_in(page, marketer.email)
    page.click("text=Upload")
    page.set_input_files("input[name=file]", deck)
    page.fill("input[name=title]", "Hospital pricing 2027")
    page.fill("textarea[name=description]", "Per-bed pricing for hospital networks")
    page.select_option("select[name=content_type]", "deck")
    page.fill("input[name=product]", "Care Platform")
    page.fill("input[name=stage]", "proposal")
    page.fill("input[name=region]", "North America")
    page.fill("input[name=persona]", "CFO")
    page.fill("input[name=tags]", "pricing, healthcare")
    page.click("form#upload-form button[type=submit]")
    # The tests' queue processes the upload (LibreOffice included) inside the request: on a busy
    # machine that takes longer than Playwright's default 15 s.
    page.wait_for_url(re.compile(r".*/assets/\d+$"), timeout=120_000)
    assert page.locator("h1").inner_text() == "Hospital pricing 2027"
    assert page.locator("text=Care Platform").count() >= 1
    page.get_by_test_id("publish").click()  # uploads start as drafts (issue 15)
    page.get_by_text("Published: reps can find it").wait_for()
    page.click("header >> text=Library")
    assert page.locator(".tile .title", has_text="Hospital pricing 2027").count() == 1

    rep_page = new_page()
    sign_in(rep_page, "ravi@example.com")
    rep_page.fill("header input[name=q]", "hospital pricing")
    rep_page.press("header input[name=q]", "Enter")
    rep_page.wait_for_url("**/search?*")
    rep_page.click("a.title:has-text('Hospital pricing 2027')")
    rep_page.wait_for_url(re.compile(r".*/assets/\d+$"))
    with rep_page.expect_download() as download_info:
        rep_page.click("[data-testid=download]")
    download = download_info.value
    assert download.suggested_filename == "pricing-2027.pptx"
    saved = tmp_path / "downloaded.pptx"
    download.save_as(saved)
    assert saved.read_bytes() == Path(deck).read_bytes()

    assert rep_page.locator("header >> text=Upload").count() == 0
    response = rep_page.goto("/assets/new")
    assert response.status == 403
    assert "Your role does not allow this" in rep_page.content()
