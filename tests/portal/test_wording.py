"""Issue 16's small traps: plurals, snippets that do not repeat the title, slides named
by their first line, states said in words, retired and expired links explained, and
an honest message when an expired item is restored."""

from __future__ import annotations

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from portal.wording import (
    first_line,
    noun_for,
    page_label,
    plural,
    processing_label,
    without_titles,
)


@pytest.mark.parametrize(("count", "noun", "expected"), [
    (0, "result", "0 results"), (1, "result", "1 result"), (2, "result", "2 results"),
    (1, "page", "1 page"), (117, "page", "117 pages"), (1, "day", "1 day"), (3, "day", "3 days"),
    (1, "reply", "1 reply"), (2, "reply", "2 replies"), (2, "search", "2 searches"), (None, "view", "0 views"),
    (12_000, "slide", "12,000 slides"),
])
def test_plural(count, noun, expected):
    assert plural(count, noun) == expected


def test_noun_alone_and_a_plural_of_its_own():
    assert (noun_for(1, "slide"), noun_for(4, "slide")) == ("slide", "slides")
    assert plural(2, "criterion", "criteria") == "2 criteria"


def test_first_line_skips_blank_and_cuts_long_lines_at_a_word():
    assert first_line("\n  \n  Per-seat   pricing \nmore") == "Per-seat pricing"
    assert first_line("• \n—\nReal words") == "Real words"  # lines without words are not names
    long = "Payback in nine months for hospital networks that standardise on one platform across every site"
    cut = first_line(long, limit=40)
    assert cut.endswith("…") and len(cut) <= 41 and long.startswith(cut[:-1])
    assert first_line(None) == first_line("") == ""


def test_page_label_uses_the_title_then_the_first_line_then_the_number():
    def page(title, text, number=4):
        return SimpleNamespace(title=title, text=text, number=number)

    assert page_label(page("Pricing tiers", "Pricing tiers\nPer bed")) == "Pricing tiers"
    assert page_label(page("", "\nWhy teams pick Orbit\nbullet")) == "Why teams pick Orbit"
    assert page_label(page(None, "")) == "Slide 4"
    assert page_label(page("", None, 7), "Page") == "Page 7"


def test_without_titles_drops_only_lines_that_repeat_a_shown_title():
    text = "Orbit pricing guide\nPer-seat pricing for teams\n  ORBIT  pricing guide! \nOrbit pricing guide for CFOs"
    assert without_titles(text, "Orbit pricing guide") == "Per-seat pricing for teams\nOrbit pricing guide for CFOs"
    assert without_titles(text) == text and without_titles(None, "x") == ""


def test_processing_states_in_words():
    assert [processing_label(s) for s in ("pending", "ready", "failed")] == \
        ["Preparing preview", "Preview ready", "No preview"]


def _marks_removed(snippet: str) -> str:
    return re.sub(r"</?mark>", "", snippet)


def test_snippets_do_not_repeat_the_title(client, auth, factories, tmp_path):
    from assets.sample_files import make_pdf

    make_pdf(str(tmp_path / "orbit.pdf"), [{"title": "Orbit pricing guide", "lines": ["Per-seat pricing for teams"]},
                                          {"title": "Hospital pricing tiers", "lines": ["Per-bed pricing"]}])
    factories.asset(title="Orbit pricing guide", content_type="datasheet",
                    content=(tmp_path / "orbit.pdf").read_bytes(), filename="orbit.pdf")
    rep = factories.user("rep")
    headers = auth.token(rep)
    found = client.get("/api/v1/search?q=pricing", headers=headers).get_json()["items"]
    assert len(found) == 1 and found[0]["highlights"]
    for snippet in found[0]["highlights"]:
        assert "Orbit pricing guide" not in _marks_removed(snippet), snippet
    assert any("Per-seat" in _marks_removed(s) for s in found[0]["highlights"])
    # A page's own title may stand in the item's snippet, once.
    assert all(_marks_removed(s).count("Hospital pricing tiers") <= 1 for s in found[0]["highlights"])

    slides = client.get("/api/v1/search/pages?q=pricing", headers=headers).get_json()["items"]
    assert slides and all("Orbit pricing guide" not in _marks_removed(h) for s in slides for h in s["highlights"])

    auth.login(rep)
    html = client.get("/search?q=pricing").get_data(as_text=True)
    assert 'data-testid="result-count" role="status">1 result<' in html
    snippets = re.findall(r'data-testid="highlight">(.*?)</div>', html)
    assert snippets and all("Orbit pricing guide" not in _marks_removed(s) for s in snippets)


def test_reps_see_no_internal_state_and_untitled_slides_by_their_first_line(client, auth, factories):
    from portal.extensions import db
    from portal.models import Page

    asset = factories.asset(title="Orbit kickoff", content=b"kickoff notes\n")
    db.session.add(Page(version_id=asset.current_version_id, asset_id=asset.id, number=4, title="",
                        text="\nWhy teams pick Orbit\nFaster onboarding"))
    db.session.commit()
    auth.login(factories.user("rep"))
    html = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert "Processing" not in html and ">ready<" not in html and 'data-testid="processing"' not in html
    assert "4. Why teams pick Orbit" in html and "Untitled" not in html and "Slide 4" not in html
    auth.logout()
    auth.login(factories.user("marketer"))
    html = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert 'data-testid="processing"' in html and "Preview ready" in html  # staff still see how it went


def test_a_retired_items_link_says_so_and_points_to_the_newer_item(client, auth, factories):
    from portal.library.services import retire_assets

    marketer = factories.user("marketer")
    old = factories.asset(marketer, title="Orbit brief", content=b"2025 brief\n")
    new = factories.asset(marketer, title="Orbit brief", content=b"2026 brief\n")
    lone = factories.asset(marketer, title="Nova teaser", content=b"teaser\n")
    retire_assets([old, lone], marketer, "Replaced")
    auth.login(factories.user("rep"))

    response = client.get(f"/assets/{old.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 404  # still not offered: the API and downloads keep answering 404
    assert "This item was retired" in html and "no longer offered" in html
    assert f'href="/assets/{new.id}"' in html and "it is the newer item" in html

    html = client.get(f"/assets/{lone.id}").get_data(as_text=True)
    assert "This item was retired" in html and 'data-testid="replacement"' not in html
    assert "Search for something similar" in html
    assert client.get(f"/assets/{old.id}/download").status_code == 404
    assert client.get(f"/api/v1/assets/{old.id}", headers=auth.token(factories.user("rep"))).status_code == 404

    html = client.get("/assets/999999").get_data(as_text=True)  # never existed: the plain answer
    assert "This item was retired" not in html and "Not found" in html


def test_an_expired_items_link_says_it_expired(client, auth, factories):
    expired = factories.asset(title="Price sheet 2025", content=b"prices\n",
                              expires_on=(date.today() - timedelta(days=2)).isoformat())
    auth.login(factories.user("rep"))
    response = client.get(f"/assets/{expired.id}")
    assert response.status_code == 404
    assert "This item has expired" in response.get_data(as_text=True)


def test_restoring_an_expired_item_says_reps_still_cannot_find_it(client, auth, factories):
    marketer = factories.user("marketer")
    expired = factories.asset(marketer, title="Price sheet 2025", content=b"prices\n",
                              expires_on=(date.today() - timedelta(days=2)).isoformat())
    current = factories.asset(marketer, title="Price sheet 2026", content=b"new prices\n")
    auth.login(marketer)
    for item in (expired, current):
        client.post(f"/assets/{item.id}/retire", data={"reason": "Tidy up"})
    html = client.post(f"/assets/{expired.id}/restore", follow_redirects=True).get_data(as_text=True)
    assert "reps can find it again" not in html
    assert f"expired on {expired.expires_on.isoformat()}" in html and "reps cannot find it" in html
    html = client.post(f"/assets/{current.id}/restore", follow_redirects=True).get_data(as_text=True)
    assert "Restored: reps can find it again." in html


def test_one_rating_form_keeps_the_comment_with_the_stars(client, auth, factories):
    from portal.extensions import db
    from portal.models import Rating

    asset = factories.asset(title="Security battlecard")
    auth.login(factories.user("rep"))
    html = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    form = re.search(r'<form[^>]*data-testid="rate-form".*?</form>', html, re.S).group(0)
    # The stars are choices, not buttons that send the form on their own; one button sends both.
    assert form.count('type="radio" ') == 5 and 'type="submit"' in form and 'name="stars" value' not in \
        re.sub(r'<input type="radio"[^>]*>', "", form)
    assert 'name="comment"' in form and form.count('type="submit"') == 1
    client.post(f"/assets/{asset.id}/rating", data={"stars": "4", "comment": "Typed after the star"})
    rating = db.session.scalars(db.select(Rating)).one()
    assert (rating.stars, rating.comment) == (4, "Typed after the star")
    html = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert re.search(r'data-testid="rate-4" checked', html) and "Update rating" in html


def test_processing_progress_is_a_progressbar_and_a_live_status(client, auth, factories):
    from portal.extensions import db

    asset = factories.asset(title="Big deck", content=b"slides\n")
    version = asset.current_version
    version.processing, version.progress_done, version.progress_total = "pending", 2, 5
    db.session.commit()
    for role in ("rep", "marketer"):
        auth.login(factories.user(role))
        html = client.get(f"/assets/{asset.id}").get_data(as_text=True)
        bar = re.search(r'<div class="progress" role="progressbar"[^>]*>', html).group(0)
        assert 'aria-valuenow="40"' in bar and 'aria-valuemin="0"' in bar and 'aria-valuemax="100"' in bar
        assert 'data-processing-detail aria-live="polite">2 of 5 pages<' in html
        assert "Preparing preview" in html and ">pending<" not in html
        auth.logout()
    auth.login(factories.user("marketer"))
    upload = client.get("/assets/new").get_data(as_text=True)
    assert re.search(r'<div class="progress" hidden data-progress role="progressbar"[^>]*aria-valuenow="0"', upload)
    assert 'data-progress-text aria-live="polite"' in upload
