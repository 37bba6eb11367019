"""Retirement candidates with reasons on a fixed dataset, bulk retirement with an
audit trail, restore, the expiry job with warnings (in the app and by real SMTP)."""

from __future__ import annotations

import dataclasses
import socket
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.analytics import retirement
from portal.errors import InvalidInput
from portal.extensions import db
from portal.library.services import restore_asset
from portal.models import Asset, AssetUsageTotal, Notification, Rating, RetirementEvent

TODAY = date(2026, 6, 1)


def _used(asset, events: int, last: date) -> None:
    db.session.add(AssetUsageTotal(asset_id=asset.id, events=events, views=events, downloads=0, search_clicks=0,
                                   deck_inclusions=0, reported_uses=0, first_used_on=last, last_used_on=last))


@pytest.fixture
def library(factories):
    """Hand-made library (today is 2026-06-01, unused means 90 days by default):
    U  created 01-01, last used 02-01 (120 days)          -> unused
    N  created 01-01, never used (151 days old)            -> unused (never)
    F  created 05-20, never used (12 days old)             -> not a candidate
    E  used 05-28, expired 05-15                           -> expired
    L  used 05-25, 3 uses, rated 2                         -> low rated, little used
    H  used 05-31, 50 uses, rated 1                        -> not a candidate (used a lot: fix it, not retire)
    S1 "Pricing 2025" 03-01, S2 " pricing  2025" 04-01     -> S1 superseded by S2
    D1 03-01 and D2 04-01, same bytes, D1 used more        -> D2 duplicate of D1 (more history, not newest)
    R  retired, never used                                 -> not listed
    """
    owner = factories.user("marketer", name="Olga Owner")
    rater = factories.user("rep")
    created = {"U": "01-01", "N": "01-01", "F": "05-20", "E": "01-01", "L": "01-01", "H": "01-01",
               "S1": "03-01", "S2": "04-01", "D1": "03-01", "D2": "04-01", "R": "01-01"}
    titles = {"S1": "Pricing 2025", "S2": " pricing  2025", "D1": "Datasheet A", "D2": "Datasheet B"}
    assets = {}
    for name, day in created.items():
        content = b"the same datasheet bytes" if name.startswith("D") else None
        asset = factories.asset(owner, title=titles.get(name, f"Item {name}"), content=content)
        asset.created_at = datetime.fromisoformat(f"2026-{day}T09:00:00")
        assets[name] = asset
    assets["E"].expires_on = date(2026, 5, 15)
    assets["R"].status, assets["R"].retired_at = "retired", datetime(2026, 2, 1)
    _used(assets["U"], 4, date(2026, 2, 1))
    _used(assets["E"], 9, date(2026, 5, 28))
    _used(assets["L"], 3, date(2026, 5, 25))
    _used(assets["H"], 50, date(2026, 5, 31))
    for name in ("S1", "S2", "D1", "D2"):
        _used(assets[name], 12 if name == "D1" else 10, date(2026, 5, 29) if name == "S1" else date(2026, 5, 30))
    db.session.add_all([Rating(asset_id=assets["L"].id, user_id=rater.id, stars=2),
                        Rating(asset_id=assets["H"].id, user_id=rater.id, stars=1)])
    db.session.commit()
    return assets


def _by_title(candidates):
    return {c.asset.title: [(r.code, r.text) for r in c.reasons] for c in candidates}


def test_candidates_and_their_reasons(library):
    candidates = retirement.retirement_candidates(today=TODAY)
    s2, d1 = library["S2"], library["D1"]
    assert _by_title(candidates) == {
        "Item N": [("unused", "Never used in its 151 days")],
        "Item U": [("unused", "Not used in 120 days (last on 2026-02-01)")],
        "Item L": [("low_rated_low_use", "Rated 2.0 by 1, used 3 times")],
        "Item E": [("expired", "Expired on 2026-05-15")],
        "Pricing 2025": [("superseded", f"Superseded by the newer “pricing  2025” (#{s2.id})")],
        "Datasheet B": [("duplicate", f"Same file as “Datasheet A” (#{d1.id}), which has more history")],
    }
    # Never used first, then the longest unused.
    assert [c.asset.title for c in candidates] == ["Item N", "Item U", "Item L", "Item E", "Pricing 2025",
                                                   "Datasheet B"]
    superseded = next(c for c in candidates if c.asset.title == "Pricing 2025")
    assert superseded.reasons[0].other_asset_id == s2.id and superseded.age_days == 92


def test_unused_days_and_reason_filter(library):
    month = _by_title(retirement.retirement_candidates(30, today=TODAY))
    assert "Item U" in month and "Item N" in month and "Item F" not in month
    assert list(_by_title(retirement.retirement_candidates(10, today=TODAY, reason="unused"))) == [
        "Item N", "Item F", "Item U"]
    year = retirement.retirement_candidates(365, today=TODAY, reason="unused")
    assert year == []
    with pytest.raises(InvalidInput):
        retirement.retirement_candidates(0, today=TODAY)
    with pytest.raises(InvalidInput):
        retirement.retirement_candidates(90, today=TODAY, reason="ugly")


def test_bulk_retire_is_audited_and_reversible(library, factories):
    marketer = factories.user("marketer")
    n, u = library["N"], library["U"]
    assert retirement.retire_selected(marketer, [str(n.id), u.id], "Nobody used these in a quarter") == 2
    events = db.session.scalars(select(RetirementEvent).order_by(RetirementEvent.asset_id)).all()
    assert [(e.asset_id, e.action, e.user_id, e.reason) for e in events] == [
        (u.id, "retired", marketer.id, "Nobody used these in a quarter"),
        (n.id, "retired", marketer.id, "Nobody used these in a quarter")]
    titles = {c.asset.title for c in retirement.retirement_candidates(today=TODAY)}
    assert "Item N" not in titles and "Item U" not in titles
    restore_asset(db.session.get(Asset, n.id), marketer, "Still needed for EMEA")
    history = retirement.recent_retirements()
    assert (history[0].action, history[0].asset_id, history[0].reason) == ("restored", n.id, "Still needed for EMEA")
    assert db.session.get(Asset, n.id).status == "published"


@pytest.mark.parametrize("extra_ids, message", [
    ([], "Select at least one item"),
    (["x"], "asset_ids must be a list"),
    ([999999], "Unknown item ids: 999999"),  # beside a valid id: nothing is retired
])
def test_bad_selections_retire_nothing(library, factories, extra_ids, message):
    ids = [library["N"].id, *extra_ids] if extra_ids else []
    with pytest.raises(InvalidInput, match=message):
        retirement.retire_selected(factories.user("marketer"), ids, "tidy up")
    assert db.session.scalar(select(RetirementEvent.id)) is None
    assert db.session.get(Asset, library["N"].id).status == "published"


def test_a_reason_is_required(library, factories):
    with pytest.raises(InvalidInput, match="Say why"):
        retirement.retire_selected(factories.user("marketer"), [library["N"].id], "   ")
    assert db.session.get(Asset, library["N"].id).status == "published"


# --- pages and API ----------------------------------------------------------------------

def test_retirement_page_lists_and_retires(library, client, auth, factories):
    auth.login(factories.user("marketer"))
    page = client.get("/analytics/retirement").get_data(as_text=True)
    assert "Never used in its" in page and "Superseded by the newer" in page and 'name="asset_id"' in page
    response = client.post("/analytics/retirement", data={
        "asset_id": [library["N"].id, library["U"].id], "reason": "Unused for a quarter", "unused_days": "90"})
    assert response.status_code == 302 and "unused_days=90" in response.location
    after = client.get(response.location).get_data(as_text=True)
    assert "Retired 2 items" in after and "Unused for a quarter" in after and "Restore" in after
    missing_reason = client.post("/analytics/retirement", data={"asset_id": [library["E"].id], "reason": ""},
                                 follow_redirects=True).get_data(as_text=True)
    assert "A reason is required" in missing_reason
    assert db.session.get(Asset, library["E"].id).status == "published"
    nothing = client.post("/analytics/retirement", data={"reason": "x"}, follow_redirects=True)
    assert "Select at least one item" in nothing.get_data(as_text=True)
    assert client.get("/analytics/retirement?unused_days=soon").status_code == 400


def test_enablement_sees_candidates_but_cannot_retire(library, client, auth, factories):
    auth.login(factories.user("enablement"))
    page = client.get("/analytics/retirement").get_data(as_text=True)
    assert "Never used in its" in page and 'name="asset_id"' not in page
    assert client.post("/analytics/retirement", data={"asset_id": library["N"].id, "reason": "x"}).status_code == 403


def test_retirement_api(library, client, auth, factories):
    headers = auth.token(factories.user("marketer"))
    listing = client.get("/api/v1/analytics/retirement-candidates?unused_days=90", headers=headers).get_json()
    # By the real date every published item is long unused; the order is the service's.
    expected = retirement.retirement_candidates(90)
    assert listing["total"] == len(expected) == 10 and listing["unused_days"] == 90
    assert [item["asset_id"] for item in listing["items"]] == [c.asset.id for c in expected]
    never = next(item for item in listing["items"] if item["asset_id"] == library["N"].id)
    assert never["last_used_at"] is None and never["reason_codes"] == ["unused"]
    assert set(never) >= {"asset_id", "title", "last_used_at", "age_days", "rating_average", "reasons"}
    assert never["reasons"][0]["text"].startswith("Never used in its")
    duplicate = next(item for item in listing["items"] if item["asset_id"] == library["D2"].id)
    assert duplicate["reason_codes"] == ["unused", "duplicate"]
    assert duplicate["reasons"][1]["other_asset_id"] == library["D1"].id
    retired = client.post("/api/v1/analytics/retire", headers=headers,
                          json={"asset_ids": [library["N"].id, library["U"].id], "reason": "API clean-up"})
    assert retired.get_json() == {"retired": 2}
    trail = client.get(f"/api/v1/assets/{library['N'].id}/retirements", headers=headers).get_json()["items"]
    assert [(t["action"], t["reason"]) for t in trail] == [("retired", "API clean-up")] and trail[0]["by"]
    bad = client.post("/api/v1/analytics/retire", headers=headers, json={"asset_ids": [999999], "reason": "x"})
    assert bad.status_code == 404 and "Nothing was retired" in bad.get_json()["error"]["message"]
    assert client.post("/api/v1/analytics/retire", headers=headers, json={"asset_ids": "1"}).status_code == 400
    assert client.get("/api/v1/analytics/retirement-candidates?unused_days=-1", headers=headers).status_code == 400
    rep = auth.token(factories.user("rep"))
    assert client.get("/api/v1/analytics/retirement-candidates", headers=rep).status_code == 403
    enablement = auth.token(factories.user("enablement"))
    assert client.post("/api/v1/analytics/retire", headers=enablement,
                       json={"asset_ids": [library["E"].id], "reason": "x"}).status_code == 403


# --- the expiry job ------------------------------------------------------------------------

def _settings(app, **changes):
    return dataclasses.replace(app.config["SETTINGS"], **changes)


def test_expiry_job_retires_and_warns_once(app, factories):
    owner = factories.user("marketer")
    expired = factories.asset(owner, title="Old price sheet", expires_on="2026-05-15")
    soon = factories.asset(owner, title="Q2 battlecard", expires_on="2026-06-10")
    later = factories.asset(owner, title="Annual report", expires_on="2026-07-30")
    settings = _settings(app, expiry_warning_days=14)

    report = retirement.run_expiry(settings, today=TODAY)
    assert report.retired == [expired.id] and report.warned == [soon.id] and report.emails_sent == 0
    event = db.session.scalar(select(RetirementEvent).where(RetirementEvent.asset_id == expired.id))
    assert (event.user_id, event.reason) == (None, "Expired on 2026-05-15 (retired by the expiry job)")
    notes = db.session.scalars(select(Notification).where(Notification.user_id == owner.id)).all()
    assert [n.message for n in notes] == [
        "“Q2 battlecard” expires on 2026-06-10 (in 9 days) and will then be retired. "
        "Publish a new version or change its expiry date to keep it."]
    assert notes[0].link == f"/assets/{soon.id}"

    again = retirement.run_expiry(settings, today=TODAY)
    assert again.retired == [] and again.warned == []  # one warning per expiry date
    db.session.get(Asset, soon.id).expires_on = date(2026, 6, 12)  # moved: a new date, a new warning
    db.session.commit()
    assert retirement.run_expiry(settings, today=TODAY).warned == [soon.id]
    assert db.session.get(Asset, later.id).status == "published"


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback that keeps what it receives."""
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
            self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, handler.messages
    controller.stop()


def test_expiry_warning_goes_by_email_when_smtp_is_set(app, factories, smtp_server):
    port, messages = smtp_server
    owner = factories.user("marketer", email="owner@example.com")
    factories.asset(owner, title="Q2 battlecard", expires_on="2026-06-03")
    settings = _settings(app, smtp_host="127.0.0.1", smtp_port=port, smtp_from="portal@example.com")
    report = retirement.run_expiry(settings, today=TODAY)
    assert report.emails_sent == 1
    [(recipients, content)] = messages
    assert recipients == ["owner@example.com"]
    assert "Subject: Expiring soon: Q2 battlecard" in content and "in 2 days" in content


def test_unreachable_smtp_still_warns_in_the_app(app, factories):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    owner = factories.user("marketer")
    factories.asset(owner, title="Q2 battlecard", expires_on="2026-06-03")
    report = retirement.run_expiry(_settings(app, smtp_host="127.0.0.1", smtp_port=closed_port), today=TODAY)
    assert report.warned and report.emails_sent == 0
    assert db.session.scalar(select(Notification.id).where(Notification.user_id == owner.id)) is not None


def test_expire_command_and_schedule(app, runner, factories):
    assert "expire_assets" in app.extensions["collateral_queue"].tasks
    asset = factories.asset(title="Last year's pricing", expires_on="2020-01-31")
    result = runner.invoke(args=["expire"])
    assert result.exit_code == 0, result.output
    assert f"Retired 1 expired item(s): #{asset.id}." in result.output
    assert db.session.get(Asset, asset.id).status == "retired"


def test_expire_command_survives_line_breaks_in_titles_when_mailing(app, runner, factories, smtp_server):
    """A title holding CR/LF used to end the Subject header early: email refused it
    and `flask expire` crashed. Header values are now one line."""
    port, messages = smtp_server
    owner = factories.user("marketer", email="owner@example.com")
    soon = date.today() + timedelta(days=3)
    asset = factories.asset(owner, title="Q2 battlecard", expires_on=soon.isoformat())
    db.session.get(Asset, asset.id).title = "Q2 battlecard\r\nBcc: everyone@example.com\n\x85next"
    db.session.commit()
    app.config["SETTINGS"] = _settings(app, smtp_host="127.0.0.1", smtp_port=port)
    result = runner.invoke(args=["expire"])
    assert result.exit_code == 0, result.output
    assert "(1 email(s) sent)" in result.output
    [(recipients, content)] = messages
    assert recipients == ["owner@example.com"]
    headers = content.replace("\r\n", "\n").split("\n\n", 1)[0].split("\n")
    assert "Subject: Expiring soon: Q2 battlecard Bcc: everyone@example.com next" in headers
    assert not any(line.startswith("Bcc:") for line in headers)
