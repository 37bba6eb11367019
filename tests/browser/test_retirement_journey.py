"""Issue 6's journey in Chromium: a marketer opens the retirement candidates,
sees why each is there, retires two at once with a reason; a rep no longer
finds them (search, library, their pages), while the item in use stays."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from portal.extensions import db
from portal.models import AssetUsageTotal, utcnow
from tests.browser.conftest import sign_in


def test_marketer_retires_two_candidates_and_reps_lose_them(app, factories, new_page):
    marketer = factories.user("marketer")
    rep = factories.user("rep")
    old = utcnow() - timedelta(days=200)
    stale = [factories.asset(marketer, title=f"Zephyr {name} sheet", tags="zephyr") for name in ("2019", "2020")]
    kept = factories.asset(marketer, title="Zephyr current sheet", tags="zephyr")
    for asset in (*stale, kept):
        asset.created_at = old
    db.session.add(AssetUsageTotal(asset_id=kept.id, events=40, views=40, downloads=0, search_clicks=0,
                                   deck_inclusions=0, reported_uses=0, first_used_on=old.date(),
                                   last_used_on=utcnow().date()))
    db.session.commit()

    page = new_page()
    sign_in(page, marketer.email)
    page.get_by_role("link", name="Retirement").first.click()
    candidates = page.get_by_test_id("candidate")
    expect(candidates).to_have_count(2)
    expect(page.get_by_test_id("candidates")).to_contain_text("Never used in its 200 days")
    expect(page.get_by_test_id("candidates")).not_to_contain_text("Zephyr current sheet")
    page.get_by_test_id("select-all").check()  # click one: select all
    page.get_by_test_id("retire-reason").fill("Replaced by the current sheet")
    page.get_by_test_id("retire-selected").click()  # click two: retire
    expect(page.get_by_text("Retired 2 items.")).to_be_visible()
    expect(page.get_by_test_id("no-candidates")).to_be_visible()
    history = page.get_by_test_id("retirement-history")
    expect(history).to_contain_text("Zephyr 2019 sheet")
    expect(history).to_contain_text("Replaced by the current sheet")
    expect(history.get_by_role("button", name="Restore")).to_have_count(2)

    page = new_page()
    sign_in(page, rep.email)
    page.fill("header input[name=q]", "zephyr")
    page.press("header input[name=q]", "Enter")
    page.wait_for_url("**/search?*")
    expect(page.get_by_test_id("result-count")).to_have_text("1 result")
    expect(page.locator("main")).to_contain_text("Zephyr current sheet")
    expect(page.locator("main")).not_to_contain_text("Zephyr 2019 sheet")
    page.get_by_role("link", name="Library").first.click()
    expect(page.locator("main")).to_contain_text("Zephyr current sheet")
    expect(page.locator("main")).not_to_contain_text("Zephyr 2020 sheet")
    response = page.goto(f"/assets/{stale[0].id}")
    assert response.status == 404
