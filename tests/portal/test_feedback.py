"""Feedback through the services and the browser-facing routes: ratings, reported
uses, flags, the review queue, My activity, My collateral, notifications."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from portal.errors import Conflict, InvalidInput
from portal.extensions import db
from portal.feedback import flags, inputs, nav_badges, owners, ratings, review_queue, uses
from portal.library.services import retire_assets
from portal.library.stats import stats_for
from portal.models import Flag, Notification, Rating, ReportedUse

XSS = '<script>alert("pwned")</script> <b>bold</b> & <img src=x onerror=alert(1)>'


def _rate(user, asset, stars, comment=""):
    rating, _ = ratings.rate_asset(user, asset.id, stars, comment)
    return rating


# --- ratings --------------------------------------------------------------------

def test_replacing_a_rating_keeps_average_count_and_distribution_right(factories):
    asset = factories.asset(title="Pricing deck")
    a, b, c = factories.user("rep"), factories.user("rep"), factories.user("rep")
    _rate(a, asset, 5)
    _rate(b, asset, 3)
    _rate(c, asset, 1)
    summary = ratings.rating_summary(asset.id)
    assert (summary.average, summary.count) == (3.0, 3)  # (5 + 3 + 1) / 3
    assert summary.distribution == {1: 1, 2: 0, 3: 1, 4: 0, 5: 1}

    rating, created = ratings.rate_asset(c, asset.id, 4, "better after the update")
    assert created is False
    summary = ratings.rating_summary(asset.id)
    assert (summary.average, summary.count) == (4.0, 3)  # (5 + 3 + 4) / 3, not (5 + 3 + 1 + 4) / 4
    assert summary.distribution == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    assert db.session.scalar(select(db.func.count()).select_from(Rating)) == 3
    # The library's numbers (tiles, search results, API) agree.
    stats = stats_for([asset.id])[asset.id]
    assert (stats.rating_average, stats.rating_count) == (4.0, 3)

    _rate(b, asset, 2)
    assert ratings.rating_summary(asset.id).average == pytest.approx(3.67)  # 11 / 3 = 3.666…


def test_change_reopens_review_but_same_values_do_not(factories):
    reviewer = factories.user("enablement")
    rep = factories.user("rep")
    asset = factories.asset()
    rating = _rate(rep, asset, 2, "Too long")
    review_queue.resolve(reviewer, Rating, rating.id, "Shortened in v2")
    _rate(rep, asset, 2, "Too long")  # same stars and comment: stays resolved
    assert rating.review_status == "resolved" and rating.resolution_note == "Shortened in v2"
    _rate(rep, asset, 2, "Still too long")
    assert rating.review_status == "open"
    assert rating.resolution_note is None and rating.resolved_by_id is None


def test_rating_validation():
    for bad in (0, 6, "x", "", None, True, 2.5, "2.5", -1):
        with pytest.raises(InvalidInput) as error:
            inputs.parse_rating({"stars": bad})
        assert "stars" in error.value.fields, bad
    assert inputs.parse_rating({"stars": "3", "comment": "  ok  "}) == (3, "ok")
    assert inputs.parse_rating({"stars": 5, "comment": "x" * 5000})[0] == 5
    with pytest.raises(InvalidInput) as error:
        inputs.parse_rating({"stars": 5, "comment": "x" * 5001})
    assert "comment" in error.value.fields


def test_reps_cannot_rate_or_report_hidden_items(factories):
    marketer = factories.user("marketer")
    rep = factories.user("rep")
    retired = factories.asset(marketer, title="Old")
    retire_assets([retired], marketer, "Superseded")
    expired = factories.asset(marketer, title="Expired", expires_on=(date.today() - timedelta(days=1)).isoformat())
    for asset in (retired, expired):
        with pytest.raises(NotFound):
            ratings.rate_asset(rep, asset.id, 3, "")
        with pytest.raises(NotFound):
            uses.report_use(rep, asset.id, inputs.parse_use({"kind": "presented"}))
        with pytest.raises(NotFound):
            flags.flag_asset(rep, asset.id, "outdated", "old")
    assert ratings.rate_asset(marketer, retired.id, 3, "")[0].stars == 3
    with pytest.raises(NotFound):
        ratings.rate_asset(rep, 999_999, 3, "")


def test_ratings_and_uses_reindex_the_asset(factories, monkeypatch):
    from portal.search import indexing

    rep = factories.user("rep")
    asset = factories.asset()
    calls = []
    monkeypatch.setattr(indexing, "index_assets", lambda asset_ids: calls.append(asset_ids))
    _rate(rep, asset, 4)
    use = uses.report_use(rep, asset.id, inputs.parse_use({"kind": "emailed"}))
    uses.update_use(rep, use.id, {"outcome": "won"})
    assert calls == [[asset.id]] * 3
    assert indexing.outbox_size() == 0


def test_one_click_rating_from_the_asset_page(client, auth, factories):
    rep = factories.user("rep")
    asset = factories.asset(title="Battlecard")
    auth.login(rep)
    page = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert 'data-testid="rate-2"' in page and 'name="stars" value="2"' in page
    response = client.post(f"/assets/{asset.id}/rating", data={"stars": "2", "comment": "Needs 2027 prices"})
    assert response.status_code == 302 and response.location.endswith(f"/assets/{asset.id}#feedback")
    page = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert "rated this 2 stars" in page
    assert "Needs 2027 prices" in page
    assert '<td class="meta star-count" data-stars="2">1</td>' in page
    assert "Your rating: 2 of 5" in page
    # Clicking another star replaces the rating.
    client.post(f"/assets/{asset.id}/rating", data={"stars": "4", "comment": "Needs 2027 prices"})
    assert [r.stars for r in db.session.scalars(select(Rating))] == [4]


def test_asset_page_rating_errors(client, auth, factories):
    rep = factories.user("rep")
    asset = factories.asset()
    auth.login(rep)
    response = client.post(f"/assets/{asset.id}/rating", data={"stars": "6"}, follow_redirects=True)
    assert "Choose from 1 to 5 stars." in response.get_data(as_text=True)
    assert db.session.scalars(select(Rating)).all() == []
    assert client.post("/assets/999999/rating", data={"stars": "3"}).status_code == 404
    assert client.post("/assets/999999/rating", data={"stars": "9"}).status_code == 404
    marketer = asset.owner
    retire_assets([asset], marketer, "Old")
    assert client.post(f"/assets/{asset.id}/rating", data={"stars": "3"}).status_code == 404
    assert client.post(f"/assets/{asset.id}/usage", data={"kind": "presented"}).status_code == 404


# --- reported uses and My activity -----------------------------------------------

def test_use_parsing():
    today = date(2026, 3, 10)
    values = inputs.parse_use({"kind": "presented", "account": " Acme ", "outcome": ""}, today=today)
    assert values == {"kind": "presented", "outcome": None, "account": "Acme", "opportunity": "", "note": "",
                      "occurred_on": today}
    for bad, field in (({"kind": "faxed"}, "kind"), ({}, "kind"),
                       ({"kind": "other", "outcome": "maybe"}, "outcome"),
                       ({"kind": "other", "occurred_on": "2026-03-11"}, "occurred_on"),
                       ({"kind": "other", "occurred_on": "2026-02-30"}, "occurred_on"),
                       ({"kind": "other", "occurred_on": "20260301"}, "occurred_on"),
                       ({"kind": "other", "account": "a" * 201}, "account"),
                       ({"kind": "other", "note": 5}, "note")):
        with pytest.raises(InvalidInput) as error:
            inputs.parse_use(bad, today=today)
        assert field in error.value.fields, bad
    assert inputs.parse_use({"outcome": "won"}, partial=True, today=today) == {"outcome": "won"}
    with pytest.raises(InvalidInput):
        inputs.parse_use({}, partial=True)


def test_report_use_edit_outcome_in_my_activity(client, auth, factories):
    rep = factories.user("rep")
    asset = factories.asset(title="Case study: Acme")
    auth.login(rep)
    response = client.post(f"/assets/{asset.id}/usage", data={
        "kind": "presented", "account": "Globex", "opportunity": "Q3 renewal", "outcome": "open", "note": "",
        "occurred_on": date.today().isoformat()})
    assert response.status_code == 302
    use = db.session.scalars(select(ReportedUse)).one()
    assert (use.kind, use.account, use.outcome, use.user_id) == ("presented", "Globex", "open", rep.id)
    assert stats_for([asset.id])[asset.id].reported == 1

    page = client.get("/my/activity").get_data(as_text=True)
    assert "Globex" in page and "Q3 renewal" in page and f"/my/activity/uses/{use.id}/edit" in page
    form = client.get(f"/my/activity/uses/{use.id}/edit").get_data(as_text=True)
    assert 'value="Globex"' in form
    bad = client.post(f"/my/activity/uses/{use.id}/edit", data={
        "kind": "presented", "account": "Globex", "opportunity": "Q3 renewal", "outcome": "won", "note": "",
        "occurred_on": (date.today() + timedelta(days=2)).isoformat()})
    assert bad.status_code == 422 and "cannot be in the future" in bad.get_data(as_text=True)
    db.session.refresh(use)
    assert use.outcome == "open"
    saved = client.post(f"/my/activity/uses/{use.id}/edit", data={
        "kind": "presented", "account": "Globex", "opportunity": "Q3 renewal", "outcome": "won", "note": "Signed!",
        "occurred_on": date.today().isoformat()})
    assert saved.status_code == 302
    db.session.refresh(use)
    assert (use.outcome, use.note) == ("won", "Signed!")

    # Someone else's report is not theirs to see or change.
    auth.logout()
    auth.login(factories.user("rep"))
    assert client.get(f"/my/activity/uses/{use.id}/edit").status_code == 404
    assert client.post(f"/my/activity/uses/{use.id}/edit", data={"outcome": "lost"}).status_code == 404
    assert "Globex" not in client.get("/my/activity").get_data(as_text=True)
    db.session.refresh(use)
    assert use.outcome == "won"


def test_update_use_owner_only(factories):
    rep, other = factories.user("rep"), factories.user("rep")
    asset = factories.asset()
    use = uses.report_use(rep, asset.id, inputs.parse_use({"kind": "shared", "outcome": "open"}))
    from werkzeug.exceptions import Forbidden

    with pytest.raises(Forbidden):
        uses.update_use(other, use.id, {"outcome": "won"})
    with pytest.raises(NotFound):
        uses.update_use(other, use.id, {"outcome": "won"}, hide_others=True)
    with pytest.raises(NotFound):
        uses.update_use(rep, 999_999, {"outcome": "won"})
    assert uses.update_use(rep, use.id, {"outcome": "won"}).outcome == "won"


# --- flags and notifications ----------------------------------------------------------

def test_flag_notifies_owner_and_enters_queue(client, auth, factories):
    owner = factories.user("marketer", name="Mara")
    rep = factories.user("rep", name="Rick")
    asset = factories.asset(owner, title="Price sheet 2025")
    auth.login(rep)
    response = client.post(f"/assets/{asset.id}/flag", data={"reason_kind": "outdated", "reason": "2025 prices"})
    assert response.status_code == 302
    flag = db.session.scalars(select(Flag)).one()
    assert (flag.reason_kind, flag.reason, flag.review_status) == ("outdated", "2025 prices", "open")
    note = db.session.scalars(select(Notification)).one()
    assert note.user_id == owner.id and "Rick flagged “Price sheet 2025” as outdated: 2025 prices" == note.message
    assert note.link == f"/assets/{asset.id}"
    # A flag without a reason is refused.
    client.post(f"/assets/{asset.id}/flag", data={"reason_kind": "wrong", "reason": " "})
    client.post(f"/assets/{asset.id}/flag", data={"reason_kind": "ugly", "reason": "x"})
    assert db.session.scalar(select(db.func.count()).select_from(Flag)) == 1

    queue = review_queue.review_queue(review_queue.ReviewFilters())
    assert [(i.kind, i.row.id) for i in queue.items] == [("flag", flag.id)]

    auth.logout()
    auth.login(owner)
    page = client.get("/notifications").get_data(as_text=True)
    assert "2025 prices" in page and 'data-read="no"' in page
    assert '<span class="badge">1</span>' in client.get("/library").get_data(as_text=True)
    assert client.post(f"/notifications/{note.id}/read", data={"open": "1"}).location == f"/assets/{asset.id}"
    db.session.refresh(note)
    assert note.read_at is not None
    from portal.notifications.services import unread_count

    assert unread_count(owner.id) == 0


def test_notifications_belong_to_their_user(client, auth, factories):
    from portal.notifications.services import notify, unread_count

    me, other = factories.user("rep"), factories.user("rep")
    mine = [notify(me.id, f"note {n}") for n in range(3)]
    theirs = notify(other.id, "not yours")
    db.session.commit()
    auth.login(me)
    page = client.get("/notifications").get_data(as_text=True)
    assert "note 2" in page and "not yours" not in page
    assert client.post(f"/notifications/{theirs.id}/read").status_code == 404
    assert client.post("/notifications/999999/read").status_code == 404
    assert unread_count(me.id) == 3
    client.post(f"/notifications/{mine[0].id}/read")
    assert unread_count(me.id) == 2
    response = client.post("/notifications/read-all", follow_redirects=True)
    assert "Marked 2 notifications as read." in response.get_data(as_text=True)
    assert unread_count(me.id) == 0
    assert unread_count(other.id) == 1


# --- review queue ---------------------------------------------------------------------

@pytest.fixture
def queue_data(factories):
    """Two products x two regions, authors in two teams, ratings 1..5 with and without comments."""
    marketer = factories.user("marketer")
    east = factories.user("rep", team="East")
    west = factories.user("rep", team="West")
    emea = factories.asset(marketer, title="Platform EMEA", product="Platform", region="EMEA")
    na = factories.asset(marketer, title="Analytics NA", product="Analytics", region="NA")
    rows = {
        "east_emea_1": _rate(east, emea, 1, ""),
        "west_emea_5c": _rate(west, emea, 5, "Great, but add a slide on SSO"),
        "east_na_2c": _rate(east, na, 2, "Wrong logo"),
        "west_na_4": _rate(west, na, 4, ""),
    }
    rows["flag_na"] = flags.flag_asset(east, na.id, "off_brand", "Old colours")
    return rows


def _ids(listing):
    return {(i.kind, i.row.id) if hasattr(i, "kind") else i.id for i in listing.items}


def test_queue_threshold_comments_and_filters(queue_data):
    r = queue_data
    parse = review_queue.parse_review_filters
    everything = review_queue.review_queue(parse({}))
    assert _ids(everything) == {("rating", r["east_emea_1"].id), ("rating", r["west_emea_5c"].id),
                                ("rating", r["east_na_2c"].id), ("flag", r["flag_na"].id)}
    assert everything.total == 4
    assert {x.id for x in review_queue.review_ratings(parse({"max_stars": "1", "comments": "exclude"})).items} == {
        r["east_emea_1"].id}
    assert {x.id for x in review_queue.review_ratings(parse({"max_stars": "4", "comments": "exclude"})).items} == {
        r["east_emea_1"].id, r["east_na_2c"].id, r["west_na_4"].id}
    assert {x.id for x in review_queue.review_ratings(parse({"product": "Platform"})).items} == {
        r["east_emea_1"].id, r["west_emea_5c"].id}
    assert {x.id for x in review_queue.review_ratings(parse({"region": "NA"})).items} == {r["east_na_2c"].id}
    assert {x.id for x in review_queue.review_ratings(parse({"team": "West"})).items} == {r["west_emea_5c"].id}
    assert {x.id for x in review_queue.review_flags(parse({"team": "East", "region": "NA"})).items} == {r["flag_na"].id}
    assert review_queue.review_flags(parse({"product": "Platform"})).items == []
    assert review_queue.open_review_count() == 4
    for bad in ({"max_stars": "0"}, {"max_stars": "6"}, {"max_stars": "x"}, {"status": "closed"},
                {"comments": "maybe"}, {"kind": "bugs"}):
        with pytest.raises(InvalidInput):
            parse(bad)


def test_queue_is_newest_first(factories):
    rep = factories.user("rep")
    assets = [factories.asset(title=f"Item {n}") for n in range(3)]
    for asset in assets:
        _rate(rep, asset, 1)
    flags.flag_asset(rep, assets[0].id, "wrong", "typo")
    items = review_queue.review_queue(review_queue.ReviewFilters()).items
    assert [(i.kind, i.row.asset_id) for i in items] == [
        ("flag", assets[0].id), ("rating", assets[2].id), ("rating", assets[1].id), ("rating", assets[0].id)]
    page_two = review_queue.review_queue(review_queue.ReviewFilters(), page=2, per_page=3)
    assert [(i.kind, i.row.asset_id) for i in page_two.items] == [("rating", assets[0].id)]
    assert page_two.total == 4


def test_resolve_moves_items_out_of_the_open_queue(factories, queue_data):
    reviewer = factories.user("enablement")
    rating = queue_data["east_na_2c"]
    review_queue.resolve(reviewer, Rating, rating.id, "Logo fixed in v3")
    assert (rating.review_status, rating.resolution_note, rating.resolved_by_id) == (
        "resolved", "Logo fixed in v3", reviewer.id)
    with pytest.raises(Conflict):
        review_queue.resolve(reviewer, Rating, rating.id, "again")
    with pytest.raises(NotFound):
        review_queue.resolve(reviewer, Rating, 999_999, "")
    review_queue.resolve(reviewer, Flag, queue_data["flag_na"].id, "New colours uploaded")
    assert review_queue.open_review_count() == 2
    resolved = review_queue.review_queue(review_queue.parse_review_filters({"status": "resolved"}))
    assert _ids(resolved) == {("rating", rating.id), ("flag", queue_data["flag_na"].id)}


def test_review_page_filters_resolves_and_badge(client, auth, factories, queue_data):
    auth.login(factories.user("enablement"))
    page = client.get("/reviews").get_data(as_text=True)
    assert "Wrong logo" in page and "Old colours" in page and "Great, but add a slide on SSO" in page
    assert 'data-testid="badge-feedback.reviews">4<' in page
    filtered = client.get("/reviews?team=West&kind=ratings").get_data(as_text=True)
    assert "Great, but add a slide on SSO" in filtered and "Wrong logo" not in filtered
    assert client.get("/reviews?max_stars=9").status_code == 422

    rating = queue_data["east_na_2c"]
    response = client.post(f"/reviews/ratings/{rating.id}/resolve",
                           data={"note": "Logo fixed", "back": "region=NA&status=open"})
    assert response.status_code == 302 and "region=NA" in response.location
    db.session.refresh(rating)
    assert rating.review_status == "resolved"
    page = client.get("/reviews").get_data(as_text=True)
    assert "Wrong logo" not in page and 'data-testid="badge-feedback.reviews">3<' in page
    assert "Wrong logo" in client.get("/reviews?status=resolved").get_data(as_text=True)
    again = client.post(f"/reviews/ratings/{rating.id}/resolve", data={"note": "x"}, follow_redirects=True)
    assert "already resolved" in again.get_data(as_text=True)
    flag = queue_data["flag_na"]
    assert client.post(f"/reviews/flags/{flag.id}/resolve", data={"note": "Done"}).status_code == 302
    assert client.post("/reviews/flags/999999/resolve", data={"note": "Done"}).status_code == 404
    db.session.refresh(flag)
    assert (flag.review_status, flag.resolution_note) == ("resolved", "Done")


def test_review_pages_are_for_enablement_and_admin(client, auth, factories):
    for role, status in (("rep", 403), ("marketer", 403), ("enablement", 200), ("admin", 200)):
        auth.login(factories.user(role))
        assert client.get("/reviews").status_code == status, role
        assert client.get("/my/collateral").status_code == (200 if role in ("marketer", "admin") else 403), role
        auth.logout()


# --- My collateral and badges --------------------------------------------------------

def test_my_collateral_shows_feedback_on_own_items_only(client, auth, factories):
    mine, theirs = factories.user("marketer"), factories.user("marketer")
    rep = factories.user("rep")
    asset = factories.asset(mine, title="My battlecard")
    other = factories.asset(theirs, title="Someone else's deck")
    _rate(rep, asset, 1, "Competitor numbers are from 2023")
    _rate(factories.user("rep"), asset, 4, "")
    uses.report_use(rep, asset.id, inputs.parse_use({"kind": "presented", "outcome": "won"}))
    flags.flag_asset(rep, asset.id, "wrong", "Pricing row is wrong")
    _rate(rep, other, 1, "Not mine to see")
    auth.login(mine)
    page = client.get("/my/collateral").get_data(as_text=True)
    assert "My battlecard" in page and "Someone else" not in page and "Not mine to see" not in page
    assert "Competitor numbers are from 2023" in page and "Pricing row is wrong" in page
    assert "2.5 (2 ratings)" in page and "1 open flag" in page and "1 open low rating" in page
    assert "<b>1</b>reported uses" in page and "<b>1</b>won" in page
    assert owners.my_feedback_count(mine) == 2  # one flag + one low rating
    assert 'data-testid="badge-feedback.my_collateral">2<' in page
    assert owners.my_feedback_count(theirs) == 1
    assert "my_feedback" not in nav_badges(rep) and "reviews" not in nav_badges(rep)


# --- comments are plain text -----------------------------------------------------------

def test_comments_with_html_stay_inert_everywhere(client, auth, factories):
    owner = factories.user("marketer")
    rep = factories.user("rep", team="East")
    asset = factories.asset(owner, title="Inert <i>title</i>")
    auth.login(rep)
    client.post(f"/assets/{asset.id}/rating", data={"stars": "1", "comment": XSS})
    client.post(f"/assets/{asset.id}/flag", data={"reason_kind": "wrong", "reason": XSS})
    client.post(f"/assets/{asset.id}/usage", data={"kind": "other", "note": XSS, "account": XSS})
    assert db.session.scalars(select(Rating)).one().comment == XSS.strip()  # stored as typed
    pages = {"asset page": client.get(f"/assets/{asset.id}"), "my activity": client.get("/my/activity")}
    auth.logout()
    auth.login(factories.user("enablement"))
    pages["review queue"] = client.get("/reviews")
    auth.logout()
    auth.login(owner)
    pages["my collateral"] = client.get("/my/collateral")
    pages["notifications"] = client.get("/notifications")
    for name, response in pages.items():
        html = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert "<script>alert" not in html and "<b>bold</b>" not in html and "<img src=x" not in html, name
        assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; &lt;b&gt;bold&lt;/b&gt; &amp;" in html, name
        assert "<i>title</i>" not in html, name
