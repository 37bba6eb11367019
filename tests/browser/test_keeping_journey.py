"""Issue 16's keeping journeys in Chromium, on a laptop (1366x768) and a phone (390x844):
a rep searches, favourites an item, adds it to a new collection and finds both on the
home page; a marketer shares a kit with a team, a rep of that team sees it on the home
page and a rep of another team does not."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(VIEWPORTS))
def sized_page(request, new_page):
    """sized_page() -> a fresh page (own cookies) at this test's viewport."""
    return lambda: new_page(VIEWPORTS[request.param])


def test_rep_favourites_and_collects_then_finds_both_at_home(factories, sized_page):
    marketer = factories.user("marketer")
    rep = factories.user("rep", name="Rosa Rep", team="Mid-market", region="North America")
    factories.asset(marketer, title="Healthcare discovery deck", product="Care Platform", region="North America")
    factories.asset(marketer, title="Security whitepaper", product="Care Platform", region="North America")

    page = sized_page()
    sign_in(page, rep.email)
    page.wait_for_url("**/home")
    expect(page.get_by_role("heading", name="Hello, Rosa Rep")).to_be_visible()
    expect(page.get_by_test_id("first-steps")).to_contain_text("Star ☆ what you use often")

    page.goto("/search")
    page.fill("main input[name=q]", "healthcare")
    page.press("main input[name=q]", "Enter")
    hit = page.locator(".search-hit", has_text="Healthcare discovery deck")
    expect(hit).to_have_count(1)
    favourite = hit.get_by_role("button", name="Favourite: Healthcare discovery deck")
    expect(favourite).to_have_attribute("aria-pressed", "false")
    favourite.click()
    expect(favourite).to_have_attribute("aria-pressed", "true")  # in place, no page load

    hit.get_by_test_id("add-to-collection").locator("summary").click()
    hit.get_by_label("Name (for a new one)").fill("Acme renewal")
    hit.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Added to “Acme renewal”.")).to_be_visible()
    # Back on the results, the star is still on.
    expect(page.locator(".search-hit", has_text="Healthcare discovery deck")
           .get_by_role("button", name="Favourite: Healthcare discovery deck")).to_have_attribute("aria-pressed", "true")

    page.get_by_role("banner").get_by_role("link", name="Collateral").click()
    page.wait_for_url("**/home")
    expect(page.get_by_test_id("first-steps")).to_have_count(0)
    expect(page.get_by_test_id("home-favorites")).to_contain_text("Healthcare discovery deck")
    expect(page.get_by_test_id("home-favorites")).not_to_contain_text("Security whitepaper")
    collections = page.get_by_test_id("home-collections")
    expect(collections).to_contain_text("Acme renewal")
    expect(collections).to_contain_text("1 item")
    collections.get_by_role("link", name="Acme renewal").click()
    expect(page.get_by_role("heading", name="Acme renewal")).to_be_visible()
    items = page.locator(".collection-item")
    expect(items).to_have_count(1)
    expect(items).to_contain_text("Healthcare discovery deck")


def test_marketer_shares_a_kit_with_a_team(factories, sized_page):
    marketer = factories.user("marketer", name="Morgan Marketer")
    mid = factories.user("rep", team="Mid-market", region="North America")
    enterprise = factories.user("rep", team="Enterprise", region="North America")
    asset = factories.asset(marketer, title="Discovery questions for hospitals")

    page = sized_page()
    sign_in(page, marketer.email)
    page.goto("/collections")
    form = page.get_by_test_id("new-collection")
    form.get_by_label("Name").fill("Healthcare discovery kit")
    form.get_by_label("Mid-market").check()
    form.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Healthcare discovery kit")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Shared with Mid-market")

    page.goto(f"/assets/{asset.id}")
    page.get_by_test_id("add-to-collection").locator("summary").click()
    expect(page.get_by_test_id("collection-choice")).to_have_value(
        page.get_by_test_id("collection-choice").locator("option", has_text="Healthcare discovery kit")
        .get_attribute("value"))
    page.get_by_test_id("add-to-collection").get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Added to “Healthcare discovery kit”.")).to_be_visible()

    page = sized_page()
    sign_in(page, mid.email)
    kits = page.get_by_test_id("home-kits")
    expect(kits).to_contain_text("Healthcare discovery kit")
    expect(kits).to_contain_text("from Morgan Marketer")
    kits.get_by_role("link", name="Healthcare discovery kit").click()
    expect(page.locator(".collection-item")).to_contain_text("Discovery questions for hospitals")
    expect(page.get_by_text("Rename")).to_have_count(0)

    page = sized_page()
    sign_in(page, enterprise.email)
    kits = page.get_by_test_id("home-kits")
    expect(kits).to_contain_text("Kits that marketing and enablement put together")
    expect(kits).not_to_contain_text("Healthcare discovery kit")
