"""Issue 4's journey in Chromium: a rep searches, narrows by a facet, opens
the Slides tab and sees the matching slide with its thumbnail."""

from __future__ import annotations

from pathlib import Path

from assets.sample_files import make_pptx
from tests.browser.conftest import sign_in


def test_rep_searches_filters_and_finds_the_slide(new_page, factories, tmp_path):
    marketer = factories.user("marketer")
    factories.user("rep", email="rosa@example.com")
    for name, title, region, slides in [
        ("na.pptx", "Pricing overview - Healthcare", "North America",
         [{"title": "Hospital pricing tiers", "bullets": ["Per-bed pricing for hospitals"]},
          {"title": "Payback in nine months", "bullets": ["ROI for hospital networks"]}]),
        ("emea.pptx", "Pricing overview - EMEA", "EMEA",
         [{"title": "EMEA pricing", "bullets": ["Per-seat pricing in euros"]}]),
    ]:
        content = Path(make_pptx(str(tmp_path / name), slides)).read_bytes()
        factories.asset(marketer, title=title, content_type="deck", region=region, tags="pricing",
                        filename=name, content=content)

    page = new_page()
    sign_in(page, "rosa@example.com")
    page.fill("header input[name=q]", "pricing")
    page.press("header input[name=q]", "Enter")
    page.wait_for_url("**/search?*")
    assert page.locator("[data-testid=result-count]").inner_text() == "2 results"
    page.click("[data-facet=region] >> a[data-facet-value='North America']")
    page.wait_for_url("**region=North+America*")
    assert page.locator("[data-testid=result-count]").inner_text() == "1 result"
    assert page.locator("[data-asset-id] a.title").inner_text() == "Pricing overview - Healthcare"
    assert page.locator("[data-testid=highlight] mark").first.inner_text().lower().startswith("pric")

    page.fill("main input[name=q]", "payback")
    page.press("main input[name=q]", "Enter")
    page.click("a[data-tab=slides]")
    page.wait_for_url("**tab=slides*")
    tiles = page.locator(".pages .tile")
    assert tiles.count() == 1
    assert "Payback in nine months" in tiles.first.inner_text()
    thumbnail = tiles.first.locator("img")
    assert thumbnail.count() == 1
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", thumbnail.element_handle())
    tiles.first.locator("a.thumb").click()
    page.wait_for_url("**/assets/*/view?page=2&q=payback")
    page.wait_for_selector("[data-viewer][data-rendered='2']")
