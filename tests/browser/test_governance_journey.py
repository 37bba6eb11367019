"""Issue 15's journey in Chromium, on a laptop and on a phone: a marketer uploads
(a double click makes one item; the content type follows the file), the draft is
invisible to a rep, it goes to review (approval required for its type), a reviewer
approves it from the queue, the rep finds it and sees when it was verified; the same
file uploaded again is offered as a new version of the item, which reps do not get
until it is published."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from assets.sample_files import make_pdf
from portal.extensions import db
from portal.library import policies
from portal.models import Asset
from tests.browser.conftest import sign_in

VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size", VIEWPORTS)
def test_draft_review_approve_and_duplicate_as_new_version(factories, new_page, tmp_path, size):
    viewport = VIEWPORTS[size]
    marketer = factories.user("marketer", email="mara@example.com")
    reviewer = factories.user("enablement", email="erin@example.com")
    rep = factories.user("rep", email="ravi@example.com")
    policies.save_policies({"datasheet": (True, 180)})
    sheet = make_pdf(str(tmp_path / "quasar-datasheet.pdf"), [
        {"title": "Quasar datasheet", "lines": ["Throughput and pricing of the Quasar appliance"]}])

    author = new_page(viewport)
    sign_in(author, marketer.email)
    author.goto("/assets/new")
    author.set_input_files("input[name=file]", sheet)
    expect(author.locator("select[name=content_type]")).to_have_value("datasheet")  # from the file, editable
    author.fill("input[name=title]", "Quasar datasheet")
    author.locator("[data-upload-submit]").dblclick()
    author.wait_for_url(re.compile(r".*/assets/\d+$"))
    asset_url = author.url
    expect(author.get_by_test_id("status")).to_have_text("draft")
    expect(author.locator("[data-processing-state]")).to_have_text("ready")
    assert db.session.scalar(select(func.count()).select_from(Asset)) == 1  # the double click made one item

    reader = new_page(viewport)
    sign_in(reader, rep.email)
    assert reader.goto(asset_url).status == 404
    reader.goto("/search?q=quasar")
    expect(reader.locator("a.title", has_text="Quasar datasheet")).to_have_count(0)

    author.get_by_test_id("publish").click()  # "Submit for review": datasheets need approval
    expect(author.get_by_test_id("status")).to_have_text("in review")
    assert reader.goto(asset_url).status == 404

    checker = new_page(viewport)
    sign_in(checker, reviewer.email)
    checker.goto("/approvals")
    item = checker.get_by_test_id("approval").filter(has_text="Quasar datasheet")
    expect(item).to_have_count(1)
    item.get_by_role("button", name="Approve").click()
    expect(checker.get_by_text("Approved; its author is notified.")).to_be_visible()
    expect(checker.get_by_test_id("no-approvals")).to_be_visible()

    reader.goto("/search?q=quasar")
    reader.locator("a.title", has_text="Quasar datasheet").click()
    reader.wait_for_url(asset_url)
    expect(reader.get_by_test_id("verified-note")).to_have_text("Verified today")

    # The same file again: caught before anything is made, offered as a new version.
    author.goto("/assets/new")
    author.set_input_files("input[name=file]", sheet)
    author.fill("input[name=title]", "Quasar datasheet copy")
    author.locator("[data-upload-submit]").click()
    choice = author.get_by_test_id("duplicate-choice")
    expect(choice).to_be_visible()
    expect(choice).to_contain_text("Quasar datasheet")
    choice.get_by_role("button", name="Publish as a new version of it").click()
    author.wait_for_url(asset_url)
    expect(author.get_by_test_id("pending-version")).to_contain_text("Version 2")
    assert db.session.scalar(select(func.count()).select_from(Asset)) == 1
    reader.reload()
    expect(reader.get_by_test_id("verified-note")).to_be_visible()  # reps keep version 1 meanwhile
