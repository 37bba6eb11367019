"""Issue 16, any screen: the header fits for every role, the menu folds on a phone,
the facets fold into a drawer, a skip link leads to the content, and the results are
reached without tabbing through every facet. At 1366x768 and 390x844."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.models import ROLES
from tests.browser.conftest import sign_in

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

# Every link and button of the header lies inside the window, and the header does not scroll.
HEADER_FITS = """() => {
  const header = document.querySelector("header.top");
  const outside = [...header.querySelectorAll("a, button, input")]
    .filter(el => el.offsetParent !== null)
    .filter(el => { const box = el.getBoundingClientRect(); return box.left < 0 || box.right > window.innerWidth; })
    .map(el => el.textContent.trim() || el.getAttribute("aria-label"));
  return {outside, scrolls: header.scrollWidth > header.clientWidth,
          page: document.documentElement.scrollWidth > window.innerWidth};
}"""


def _open(new_page, user, viewport: dict, url: str):
    page = new_page()
    page.set_viewport_size(viewport)
    sign_in(page, user.email)
    page.goto(url)
    return page


def _fits(page) -> None:
    layout = page.evaluate(HEADER_FITS)
    assert layout == {"outside": [], "scrolls": False, "page": False}


@pytest.fixture
def staffed(factories):
    """One user per role and a few items with facets to fold."""
    users = {role: factories.user(role, email=f"{role}@example.com", name=f"{role.title()} With A Long Name")
             for role in ROLES}
    for n, (product, region) in enumerate([("Orbit", "EMEA"), ("Nova", "North America"), ("Atlas", "APAC")]):
        factories.asset(users["marketer"], title=f"{product} pricing guide", content_type="datasheet",
                        product=product, region=region, stage="Proposal", persona="CFO", tags="pricing,roi",
                        content=f"{product} pricing for {region}, item {n}\n".encode())
    return users


def test_header_fits_at_1366_for_every_role(new_page, staffed):
    for user in staffed.values():
        page = _open(new_page, user, DESKTOP, "/library")
        expect(page.locator("header.top nav")).to_be_visible()
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()  # no need to fold at 1366
        expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
        expect(page.locator("header.top .identity")).to_contain_text(user.name)
        _fits(page)
        page.context.close()


def test_phone_menu_folds_and_opens(new_page, staffed):
    page = _open(new_page, staffed["admin"], PHONE, "/library")
    menu = page.get_by_role("button", name="Menu")
    analytics = page.locator("header.top nav").get_by_role("link", name="Analytics")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(analytics).to_be_hidden()
    expect(page.locator("header.top input[name=q]")).to_be_visible()  # search stays at hand
    _fits(page)

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(analytics).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    _fits(page)
    page.keyboard.press("Escape")
    expect(analytics).to_be_hidden()
    expect(menu).to_be_focused()

    menu.click()
    analytics.click()
    page.wait_for_url("**/analytics/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("header.top nav")).to_be_hidden()  # a new page starts folded


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366x768", "390x844"])
def test_skip_link_leads_to_the_content(new_page, staffed, viewport):
    page = _open(new_page, staffed["rep"], viewport, "/library")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).not_to_be_in_viewport()  # out of sight until a keyboard reaches it
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_facets_are_a_drawer_on_the_phone(new_page, staffed):
    page = _open(new_page, staffed["rep"], PHONE, "/search?q=pricing")
    expect(page.get_by_test_id("result-count")).to_have_text("3 results")
    drawer = page.get_by_test_id("facets")
    emea = drawer.locator("a[data-facet-value=EMEA]")
    expect(emea).to_be_hidden()
    first_result = page.locator("[data-asset-id] a.title").first
    expect(first_result).to_be_in_viewport()  # the results are not pushed below the facets
    drawer.get_by_text("Filters").click()
    expect(emea).to_be_visible()
    emea.click()
    page.wait_for_url("**region=EMEA*")
    expect(page.get_by_test_id("result-count")).to_have_text("1 result")
    expect(page.locator("[data-asset-id] a.title")).to_have_text(["Orbit pricing guide"])
    expect(page.get_by_test_id("facets").locator("summary")).to_contain_text("1 on")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_facets_are_open_on_a_wide_screen_and_results_skip_them(new_page, staffed):
    page = _open(new_page, staffed["rep"], DESKTOP, "/search?q=pricing")
    drawer = page.get_by_test_id("facets")
    expect(drawer.locator("summary")).to_be_hidden()
    expect(drawer.locator("a[data-facet-value=EMEA]")).to_be_visible()
    assert drawer.locator("a[data-facet-value]").count() >= 10  # many facet links to tab past

    # From the search box: a few Tabs reach "Skip to results", and one more the first result.
    page.locator("main input[name=q]").focus()
    skip = page.get_by_role("link", name="Skip to results")
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim() === 'Skip to results'"):
            break
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == page.locator("[data-asset-id] a.title").first.inner_text()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366x768", "390x844"])
def test_no_empty_facet_box_without_results(new_page, staffed, viewport):
    page = _open(new_page, staffed["rep"], viewport, "/search?q=zzyzx")
    expect(page.get_by_test_id("no-results")).to_be_visible()
    expect(page.get_by_test_id("result-count")).to_have_text("0 results")
    expect(page.get_by_role("complementary", name="Filters")).to_have_count(0)
    expect(page.get_by_test_id("facets")).to_have_count(0)
