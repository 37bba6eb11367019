"""A rep rates an item 2 stars with a comment and reports a use; the enablement
lead finds it in the review queue, resolves it, and it leaves the open queue."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Rating, ReportedUse
from tests.browser.conftest import sign_in


def test_rep_rates_and_reports_then_lead_resolves(app, factories, new_page):
    marketer = factories.user("marketer", name="Mara Marketer")
    rep = factories.user("rep", name="Rita Rep", team="East")
    lead = factories.user("enablement", name="Lena Lead")
    asset = factories.asset(marketer, title="Security battlecard", product="Platform", region="EMEA")
    comment = "Competitor pricing is from 2023 <b>please</b> update"

    page = new_page()
    sign_in(page, rep.email)
    page.goto(f"/assets/{asset.id}")
    # The star first, then the comment: one form sends both (a star no longer submits by itself).
    page.locator(".star-choice label").nth(1).click()
    expect(page.get_by_test_id("rate-2")).to_be_checked()
    page.fill("#rating-comment", comment)
    page.get_by_test_id("rate-submit").click()
    expect(page.get_by_text("Thanks: you rated this 2 stars.")).to_be_visible()
    expect(page.get_by_test_id("rating-count")).to_have_text("1")
    expect(page.get_by_test_id("comment").first).to_contain_text(comment)  # shown as typed, as text

    page.get_by_text("Report a use").click()
    form = page.get_by_test_id("use-form")
    form.locator("select[name=kind]").select_option("presented")
    form.locator("input[name=account]").fill("Globex")
    form.locator("select[name=outcome]").select_option("open")
    form.get_by_role("button", name="Report use").click()
    expect(page.get_by_text("Thanks: your use is recorded.")).to_be_visible()
    page.get_by_role("link", name="My activity").first.click()
    expect(page.get_by_test_id("my-uses")).to_contain_text("Globex")

    rating = db.session.scalars(select(Rating)).one()
    assert (rating.stars, rating.comment, rating.user_id) == (2, comment, rep.id)
    use = db.session.scalars(select(ReportedUse)).one()
    assert (use.kind, use.account, use.outcome) == ("presented", "Globex", "open")

    lead_page = new_page()
    sign_in(lead_page, lead.email)
    badge = lead_page.get_by_test_id("badge-feedback.reviews")
    expect(badge).to_have_text("1")
    lead_page.get_by_role("link", name=re.compile("^Reviews")).click()
    item = lead_page.get_by_test_id("review-item").filter(has_text="Security battlecard")
    expect(item).to_contain_text(comment)
    expect(item).to_contain_text("Rita Rep")
    item.get_by_placeholder("Resolution note (what was done)").fill("Asked marketing for 2026 prices")
    item.get_by_role("button", name="Resolve").click()
    expect(lead_page.get_by_text("Resolved.")).to_be_visible()
    expect(lead_page.get_by_test_id("review-item")).to_have_count(0)
    expect(lead_page.get_by_test_id("badge-feedback.reviews")).to_have_count(0)

    lead_page.goto("/reviews?status=resolved")
    expect(lead_page.get_by_test_id("review-item")).to_contain_text("Asked marketing for 2026 prices")
    db.session.refresh(rating)
    assert rating.review_status == "resolved" and rating.resolution_note == "Asked marketing for 2026 prices"
