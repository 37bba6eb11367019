"""Share links (portal/sharing): tokens, the rep's API, what a buyer may reach,
the gate's throttling, the buyer pages' headers and cookies, beacons, visits and
the rep's notifications."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from assets.sample_files import make_pdf
from portal.extensions import db
from portal.models import (
    Asset,
    Deck,
    DeckSlide,
    Notification,
    ShareGateFailure,
    ShareLink,
    SharePageView,
    ShareVisit,
    utcnow,
)
from portal.sharing import visits
from portal.sharing.tokens import token_hash
from tests.portal.test_decks_api import library as library  # noqa: F401 (real decks, a shared fixture)
from tests.portal.test_decks_api import slide_titles
from tests.portal.test_retirement import smtp_server  # noqa: F401 (a fixture: a real SMTP server)

PAGES = 4


@pytest.fixture
def item(factories, tmp_path):
    """A processed 4-page PDF (pages and thumbnails), published by a marketer."""
    pdf = Path(make_pdf(str(tmp_path / "pricing.pdf"), [
        {"title": f"Page {n}", "lines": [f"pricing detail {n}"]} for n in range(1, PAGES + 1)]))
    asset = factories.asset(factories.user("marketer"), content=pdf.read_bytes(), filename="pricing.pdf",
                            title="Pricing guide")
    db.session.refresh(asset)
    assert asset.current_version.processing == "ready" and asset.current_version.page_count == PAGES
    return asset


@pytest.fixture
def rep(factories):
    return factories.user("rep", email="rita@example.com", name="Rita Rep")


def share(client, headers, **body):
    response = client.post("/api/v1/shares", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def token_of(link: dict) -> str:
    return link["url"].rsplit("/", 1)[1]


def buyer_client(app, address="203.0.113.7", agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148"):
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": address, "HTTP_USER_AGENT": agent})
    return client


def open_as_buyer(app, token, **form):
    """A buyer who opened the link (through the gate when it has one)."""
    buyer = buyer_client(app)
    response = buyer.post(f"/s/{token}", data=form) if form else buyer.get(f"/s/{token}")
    assert response.status_code == 303, response.get_data(as_text=True)
    return buyer


# --- tokens ----------------------------------------------------------------------------

def test_tokens_are_long_random_and_kept_only_hashed(app, client, auth, rep, item):
    headers = auth.token(rep)
    made = [share(client, headers, asset_id=item.id) for _ in range(3)]
    tokens = [token_of(link) for link in made]
    assert len(set(tokens)) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", t) for t in tokens)  # 32 bytes = 256 bits
    for link, token in zip(made, tokens, strict=True):
        row = db.session.get(ShareLink, link["id"])
        assert row.token_hash == token_hash(token) and token not in repr(vars(row))
    # Looked up by the hash: the token opens its own link, a changed character opens nothing.
    assert open_as_buyer(app, tokens[0])
    changed = tokens[0][:-1] + ("A" if tokens[0][-1] != "A" else "B")
    assert buyer_client(app).get(f"/s/{changed}").status_code == 404
    # Later reads never show the URL again.
    assert client.get(f"/api/v1/shares/{made[0]['id']}", headers=headers).get_json()["url"] is None


# --- the rep's API ---------------------------------------------------------------------

def test_create_with_defaults_and_options(client, auth, rep, item):
    headers = auth.token(rep)
    link = share(client, headers, asset_id=item.id)
    assert link["url"].startswith("http://localhost/s/")
    assert link["kind"] == "asset" and link["target"] == {"type": "asset", "id": item.id, "title": "Pricing guide"}
    assert link["expires_on"] == (date.today() + timedelta(days=30)).isoformat()
    assert (link["require_email"], link["passcode"], link["allow_download"], link["revoked"]) == \
        (False, False, False, False)
    full = share(client, headers, asset_id=item.id, expires_on=(date.today() + timedelta(days=3)).isoformat(),
                 require_email=True, passcode="open sesame", allow_download=True, notify=False,
                 account="Acme", opportunity="Acme renewal 2027")
    assert (full["require_email"], full["passcode"], full["allow_download"], full["notify"]) == \
        (True, True, True, False)
    assert (full["account"], full["opportunity"]) == ("Acme", "Acme renewal 2027")
    assert db.session.get(ShareLink, full["id"]).passcode_hash.startswith(("scrypt:", "pbkdf2:"))


BAD_INPUT = [
    ({}, "target"),
    ({"asset_id": 1, "deck_id": 1}, "target"),
    ({"collection_id": "abc"}, "collection_id"),
    ({"asset_id": "abc"}, "asset_id"),
    ({"asset_id": 10**30}, "asset_id"),
    ({"asset_id": 1, "expires_on": "2020-01-01"}, "expires_on"),
    ({"asset_id": 1, "expires_on": "tomorrow"}, "expires_on"),
    ({"asset_id": 1, "expires_on": "2999-01-01"}, "expires_on"),
    ({"asset_id": 1, "expires_on": 20270101}, "expires_on"),
    ({"asset_id": 1, "passcode": "ab"}, "passcode"),
    ({"asset_id": 1, "passcode": ["open sesame"]}, "passcode"),
    ({"asset_id": 1, "require_email": "maybe"}, "require_email"),
    ({"asset_id": 1, "notify": {}}, "notify"),
    ({"asset_id": 1, "account": "x" * 201}, "account"),
]


def test_bad_input_is_refused_with_the_field(client, auth, rep):
    headers = auth.token(rep)
    for body, field in BAD_INPUT:
        response = client.post("/api/v1/shares", json=body, headers=headers)
        assert response.status_code == 422, body
        assert field in response.get_json()["error"]["fields"], body


def test_malformed_json_and_unknown_targets(client, auth, factories, rep, item):
    headers = auth.token(rep)
    assert client.post("/api/v1/shares", data="{", headers={**headers, "Content-Type": "application/json"}
                       ).status_code == 400
    assert client.post("/api/v1/shares", json={"asset_id": 999999}, headers=headers).status_code == 404
    other = factories.user("rep")
    deck = Deck(owner_id=other.id, title="Theirs", slides=[DeckSlide(position=1, page_id=item.current_version.pages[0].id)])
    db.session.add(deck)
    db.session.commit()
    assert client.post("/api/v1/shares", json={"deck_id": deck.id}, headers=headers).status_code == 404
    db.session.get(Asset, item.id).status = "retired"
    db.session.commit()
    assert client.post("/api/v1/shares", json={"asset_id": item.id}, headers=headers).status_code == 404


def test_links_are_private_to_their_rep_and_visible_to_staff(app, client, auth, factories, rep, item):
    mine = share(client, auth.token(rep), asset_id=item.id)
    other = factories.user("rep")
    other_headers = auth.token(other)
    assert client.get(f"/api/v1/shares/{mine['id']}", headers=other_headers).status_code == 404
    assert client.post(f"/api/v1/shares/{mine['id']}/revoke", headers=other_headers).status_code == 404
    assert client.get("/api/v1/shares", headers=other_headers).get_json()["total"] == 0
    assert client.get("/api/v1/shares", headers=auth.token(rep)).get_json()["total"] == 1
    lead = auth.token(factories.user("enablement"))
    assert client.get(f"/api/v1/shares/{mine['id']}", headers=lead).status_code == 200
    assert client.get("/api/v1/shares?all=1", headers=lead).get_json()["total"] == 1
    assert client.get("/api/v1/shares?all=1", headers=other_headers).get_json()["total"] == 0
    assert client.get("/api/v1/shares/2147483648", headers=lead).status_code == 404


def test_extend_and_revoke(app, client, auth, rep, item):
    headers = auth.token(rep)
    link = share(client, headers, asset_id=item.id)
    later = (date.today() + timedelta(days=60)).isoformat()
    response = client.patch(f"/api/v1/shares/{link['id']}", json={"expires_on": later}, headers=headers)
    assert response.status_code == 200 and response.get_json()["expires_on"] == later
    assert client.patch(f"/api/v1/shares/{link['id']}", json={}, headers=headers).status_code == 422
    assert client.patch(f"/api/v1/shares/{link['id']}", json=[1], headers=headers).status_code == 400
    revoked = client.post(f"/api/v1/shares/{link['id']}/revoke", headers=headers).get_json()
    assert revoked["revoked"] is True and revoked["state"] == "revoked"
    assert client.patch(f"/api/v1/shares/{link['id']}", json={"expires_on": later}, headers=headers
                        ).status_code == 422


# --- what buyers get: 404, 410, plain pages, headers, no cookie -----------------------

def test_unknown_revoked_and_expired_links(app, client, auth, rep, item):
    headers = auth.token(rep)
    buyer = buyer_client(app)
    for token in ("x" * 43, "short", "a.b", "%00"):
        response = buyer.get(f"/s/{token}")
        assert response.status_code == 404
        assert "Link not found" in response.get_data(as_text=True)
    revoked = share(client, headers, asset_id=item.id)
    client.post(f"/api/v1/shares/{revoked['id']}/revoke", headers=headers)
    response = buyer.get(f"/s/{token_of(revoked)}")
    assert response.status_code == 410 and "Link revoked" in response.get_data(as_text=True)
    expired = share(client, headers, asset_id=item.id)
    db.session.get(ShareLink, expired["id"]).expires_on = date.today() - timedelta(days=1)
    db.session.commit()
    response = buyer.get(f"/s/{token_of(expired)}")
    assert response.status_code == 410 and "Link expired" in response.get_data(as_text=True)
    for response in (buyer.get(f"/s/{token_of(revoked)}/pages/1.png"),
                     buyer.post(f"/s/{token_of(revoked)}/beacon", data=b"{}")):
        assert response.status_code == 410


def test_buyer_pages_send_no_portal_cookie_and_strict_headers(app, client, auth, rep, item):
    link = share(client, auth.token(rep), asset_id=item.id)
    token = token_of(link)
    # The rep is signed in to the portal in this browser, and opens their own link.
    auth.login(rep)
    assert "session" in {c.key for c in client._cookies.values()}
    for response in (client.get(f"/s/{token}"), client.get(f"/s/{token}", follow_redirects=True),
                     client.get("/s/" + "x" * 43)):
        cookies = response.headers.getlist("Set-Cookie")
        assert not any(c.startswith(("session=", "remember_token=")) for c in cookies), cookies
        assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
    visit_cookie = client.get(f"/s/{token}").headers.getlist("Set-Cookie")
    fresh = buyer_client(app).get(f"/s/{token}").headers.getlist("Set-Cookie")
    assert len(fresh) == 1 and fresh[0].startswith("share_visit=")
    assert f"Path=/s/{token}" in fresh[0] and "HttpOnly" in fresh[0] and "SameSite=Strict" in fresh[0]
    assert visit_cookie == [] or all(c.startswith("share_visit=") for c in visit_cookie)


def test_buyer_page_shows_the_item_and_the_rep_without_portal_navigation(app, client, auth, rep, item):
    link = share(client, auth.token(rep), asset_id=item.id)
    token = token_of(link)
    buyer = open_as_buyer(app, token)
    html = buyer.get(f"/s/{token}").get_data(as_text=True)
    assert "Pricing guide" in html and "Rita Rep" in html and "mailto:rita@example.com" in html
    assert "<nav>" not in html and "Sign out" not in html and "csrf" not in html and "/library" not in html
    # The item in the viewer (PDF.js), its beacons going to the link's own endpoint.
    assert f'data-src="/s/{token}/document.pdf"' in html and f'data-beacon-url="/s/{token}/beacon"' in html
    # Every URL the page holds is under its own token, or a static file.
    urls = re.findall(r'(?:href|src|data-[a-z-]+-url)="([^"]+)"', html)
    assert urls and all(u.startswith((f"/s/{token}", "/static/", "mailto:")) for u in urls), urls
    assert "/download\"" not in html  # view only


def test_a_link_exposes_only_what_was_shared(app, client, auth, factories, rep, item, tmp_path):
    other = factories.asset(title="Secret roadmap")
    link = share(client, auth.token(rep), asset_id=item.id)
    token = token_of(link)
    buyer = open_as_buyer(app, token)
    for number in range(1, PAGES + 1):
        response = buyer.get(f"/s/{token}/pages/{number}.png")
        assert response.status_code == 200 and response.mimetype == "image/png"
        assert response.get_data().startswith(b"\x89PNG")
    document = buyer.get(f"/s/{token}/document.pdf")
    assert document.status_code == 200 and document.get_data().startswith(b"%PDF")
    assert not document.headers.get("Content-Disposition", "").startswith("attachment")
    for path in ("/pages/0.png", f"/pages/{PAGES + 1}.png", "/pages/99999999999.png", "/download",
                 f"/pages/{other.id}.png/../../x"):
        assert buyer.get(f"/s/{token}{path}").status_code == 404, path
    # Nothing of the portal opens through the link's visit.
    page_id = item.current_version.pages[0].id
    for path in (f"/api/v1/assets/{item.id}", f"/api/v1/assets/{other.id}", f"/api/v1/assets/{item.id}/pages",
                 f"/api/v1/pages/{page_id}/thumbnail", f"/api/v1/assets/{item.id}/cover",
                 f"/api/v1/assets/{item.id}/preview",
                 f"/api/v1/assets/{item.id}/download", "/api/v1/shares"):
        assert buyer.get(path).status_code == 401, path
    for path in (f"/assets/{item.id}", f"/assets/{other.id}/download", "/library", "/shares",
                 f"/assets/{item.id}/view", f"/assets/{item.id}/preview.pdf", f"/assets/{item.id}/media"):
        response = buyer.get(path)
        assert response.status_code == 302 and "/login" in response.location, path
    # Without the visit (someone given only part of the journey), nothing is served either.
    assert buyer_client(app).get(f"/s/{token}/pages/1.png").status_code == 404
    assert buyer_client(app).get(f"/s/{token}/document.pdf").status_code == 404


def test_download_only_when_allowed_and_as_attachment(app, client, auth, rep, item):
    headers = auth.token(rep)
    view_only = token_of(share(client, headers, asset_id=item.id))
    assert open_as_buyer(app, view_only).get(f"/s/{view_only}/download").status_code == 404
    link = share(client, headers, asset_id=item.id, allow_download=True)
    buyer = open_as_buyer(app, token_of(link))
    response = buyer.get(f"/s/{token_of(link)}/download")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;") and "pricing.pdf" in \
        response.headers["Content-Disposition"]
    assert response.get_data().startswith(b"%PDF")
    [visit] = client.get(f"/api/v1/shares/{link['id']}", headers=headers).get_json()["visits"]
    assert visit["downloaded"] is True and visit["device"] == "mobile"


def test_retired_or_expired_content_stops_on_every_link(app, client, auth, rep, item):
    headers = auth.token(rep)
    first, second = (share(client, headers, asset_id=item.id, allow_download=True) for _ in range(2))
    buyer = open_as_buyer(app, token_of(first))
    db.session.get(Asset, item.id).status = "retired"
    db.session.commit()
    for path in ("", "/pages/1.png", "/download"):
        response = buyer.get(f"/s/{token_of(first)}{path}")
        assert response.status_code == 410 and "no longer available" in response.get_data(as_text=True)
    assert buyer_client(app).get(f"/s/{token_of(second)}").status_code == 410
    notices = db.session.scalars(select(Notification).where(Notification.user_id == rep.id)).all()
    withdrawn = [n for n in notices if "no longer served" in n.message]
    assert len(withdrawn) == 2  # one per link, however often buyers try
    assert client.get(f"/api/v1/shares/{first['id']}", headers=headers).get_json()["state"] == "withdrawn"
    asset = db.session.get(Asset, item.id)
    asset.status, asset.expires_on = "published", date.today() - timedelta(days=1)
    db.session.commit()
    response = buyer.get(f"/s/{token_of(first)}")
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)


# --- the gate ---------------------------------------------------------------------------

def test_email_gate_and_passcode(app, client, auth, rep, item, caplog):
    link = share(client, auth.token(rep), asset_id=item.id, require_email=True, passcode="open sesame")
    token = token_of(link)
    buyer = buyer_client(app)
    page = buyer.get(f"/s/{token}")
    assert page.status_code == 200 and 'name="email"' in page.get_data(as_text=True)
    assert page.headers.getlist("Set-Cookie") == []
    assert buyer.get(f"/s/{token}/pages/1.png").status_code == 404  # nothing before the gate
    with caplog.at_level("WARNING", logger="portal.sharing.gate"):
        wrong = buyer.post(f"/s/{token}", data={"email": "not an email", "passcode": "nope"})
    assert wrong.status_code == 422
    text = wrong.get_data(as_text=True)
    assert "work email" in text and "passcode is not right" in text
    assert "gate failed (email, passcode) from 203.0.113.7" in caplog.text
    right = buyer.post(f"/s/{token}", data={"email": " Buyer@Acme.example ", "passcode": "open sesame"})
    assert right.status_code == 303
    assert buyer.get(f"/s/{token}/pages/1.png").status_code == 200
    [visit] = db.session.scalars(select(ShareVisit)).all()
    assert visit.email == "buyer@acme.example"


def test_gate_locks_out_an_address_then_the_link(app, client, auth, rep, item, caplog):
    app.config["SETTINGS"] = app.config["SETTINGS"].__class__(**{
        **vars(app.config["SETTINGS"]), "share_failures_per_address": 3, "share_failures_per_link": 5})
    link = share(client, auth.token(rep), asset_id=item.id, passcode="open sesame")
    token = token_of(link)
    guesser = buyer_client(app, address="198.51.100.1")
    for _ in range(3):
        assert guesser.post(f"/s/{token}", data={"passcode": "guess"}).status_code == 422
    with caplog.at_level("WARNING", logger="portal.sharing.gate"):
        locked = guesser.post(f"/s/{token}", data={"passcode": "open sesame"})  # even the right one
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "gate locked for 198.51.100.1" in caplog.text
    # Another address may still try at this link, until the link's own limit.
    honest = buyer_client(app, address="198.51.100.2")
    assert honest.post(f"/s/{token}", data={"passcode": "open sesame"}).status_code == 303
    for n in range(2):
        buyer_client(app, address=f"198.51.100.{10 + n}").post(f"/s/{token}", data={"passcode": "guess"})
    assert db.session.scalar(select(func.count()).select_from(ShareGateFailure)) == 5
    late = buyer_client(app, address="198.51.100.3").post(f"/s/{token}", data={"passcode": "open sesame"})
    assert late.status_code == 429
    # The lockout ends with the window.
    for failure in db.session.scalars(select(ShareGateFailure)):
        failure.created_at -= timedelta(minutes=16)
    db.session.commit()
    assert buyer_client(app, address="198.51.100.3").post(f"/s/{token}", data={"passcode": "open sesame"}
                                                           ).status_code == 303


# --- visits, beacons, notifications -----------------------------------------------------

def beacon(buyer, token, pages, **extra):
    return buyer.post(f"/s/{token}/beacon", data=json.dumps({"pages": pages, **extra}),
                      content_type="text/plain;charset=UTF-8")


def test_beacons_add_up_per_visit_and_page(app, client, auth, rep, item):
    headers = auth.token(rep)
    link = share(client, headers, asset_id=item.id)
    token = token_of(link)
    buyer = open_as_buyer(app, token)
    assert beacon(buyer, token, [{"number": 1, "seconds": 4.4}, {"number": 2, "seconds": 12}]).status_code == 204
    assert beacon(buyer, token, [{"number": 2, "seconds": 3}, {"number": 3, "seconds": 40}]).status_code == 204
    rows = db.session.scalars(select(SharePageView).order_by(SharePageView.number)).all()
    assert [(r.number, r.seconds, r.views, r.page_number, r.asset_id) for r in rows] == [
        (1, 4, 1, 1, item.id), (2, 15, 2, 2, item.id), (3, 40, 1, 3, item.id)]
    [visit] = client.get(f"/api/v1/shares/{link['id']}", headers=headers).get_json()["visits"]
    assert visit["pages"] == [{"number": 1, "seconds": 4}, {"number": 2, "seconds": 15},
                              {"number": 3, "seconds": 40}]
    assert visit["seconds"] == 59 and visit["email"] is None


def test_the_viewers_form_beacon_is_understood(app, client, auth, rep, item):
    token = token_of(share(client, auth.token(rep), asset_id=item.id))
    buyer = open_as_buyer(app, token)
    sent = buyer.post(f"/s/{token}/beacon", data={"csrf_token": "", "pages": json.dumps([{"number": 2, "seconds": 7}])})
    assert sent.status_code == 204
    assert buyer.post(f"/s/{token}/beacon", data={"pages": "[{"}).status_code == 400
    assert [(r.number, r.seconds) for r in db.session.scalars(select(SharePageView))] == [(2, 7)]


def test_beacons_are_validated_and_bounded(app, client, auth, rep, item, monkeypatch):
    link = share(client, auth.token(rep), asset_id=item.id)
    token = token_of(link)
    buyer = open_as_buyer(app, token)
    kept = [{"number": 1, "seconds": 100000}, {"number": 0, "seconds": 5}, {"number": PAGES + 1, "seconds": 5},
            {"number": 2**40, "seconds": 5}, {"number": 2, "seconds": -3}, {"number": 3, "seconds": 1e400}]
    assert beacon(buyer, token, kept).status_code == 204
    rows = {r.number: r.seconds for r in db.session.scalars(select(SharePageView))}
    assert rows == {1: visits.MAX_ENTRY_SECONDS, 3: visits.MAX_ENTRY_SECONDS}
    for body in (b"", b"{", b"[]", b'{"pages": 3}', b'{"pages": [{"number": "1", "seconds": 2}]}',
                 b'{"pages": [{"number": 1, "seconds": true}]}', b'{"pages": [1]}', b'{"visit": 5, "pages": []}',
                 b"[" * 100000 + b"]" * 100000):
        assert buyer.post(f"/s/{token}/beacon", data=body).status_code in (400, 413), body[:40]
    assert buyer.post(f"/s/{token}/beacon", data=b" " * (visits.MAX_BEACON_BYTES + 10)).status_code == 413
    # An unknown visit is ignored (204, nothing kept): a stranger with only the token, or a forged key.
    before = db.session.scalar(select(func.sum(SharePageView.views)))
    assert beacon(buyer_client(app), token, [{"number": 1, "seconds": 5}]).status_code == 204
    assert beacon(buyer_client(app), token, [{"number": 1, "seconds": 5}], visit="y" * 43).status_code == 204
    assert db.session.scalar(select(func.sum(SharePageView.views))) == before
    # Bounded per visit: seconds, then beacons.
    monkeypatch.setattr(visits, "MAX_VISIT_SECONDS", 1500)
    beacon(buyer, token, [{"number": 4, "seconds": 600}, {"number": 4, "seconds": 600}])
    assert db.session.scalar(select(ShareVisit.seconds)) == 1500
    monkeypatch.setattr(visits, "MAX_BEACONS_PER_VISIT", db.session.scalar(select(ShareVisit.beacons)))
    views = db.session.scalar(select(func.sum(SharePageView.views)))
    beacon(buyer, token, [{"number": 1, "seconds": 1}])
    db.session.expire_all()
    assert db.session.scalar(select(func.sum(SharePageView.views))) == views


def test_device_classes():
    assert visits.device_class("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148") == "mobile"
    assert visits.device_class("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120 Mobile Safari/537.36") == "mobile"
    assert visits.device_class("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)") == "tablet"
    assert visits.device_class("Mozilla/5.0 (Linux; Android 13; SM-X700) Chrome/120 Safari/537.36") == "tablet"
    assert visits.device_class("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120 Safari/537.36") == "desktop"
    assert visits.device_class("Slackbot-LinkExpanding 1.0") == "bot"
    assert visits.device_class(None) == "desktop"


def test_rep_is_told_of_the_first_open_and_of_a_revisit(app, client, auth, rep, item):
    link = share(client, auth.token(rep), asset_id=item.id, require_email=True)
    token = token_of(link)

    def notes():
        return [n.message for n in db.session.scalars(
            select(Notification).where(Notification.user_id == rep.id).order_by(Notification.id))]

    open_as_buyer(app, token, email="ann@acme.example")
    assert notes() == ["ann@acme.example opened your link to “Pricing guide” for the first time."]
    open_as_buyer(app, token, email="bob@acme.example")  # the same day: no new notice
    assert len(notes()) == 1
    row = db.session.get(ShareLink, link["id"])
    row.last_visit_at = utcnow() - timedelta(days=4)
    db.session.commit()
    open_as_buyer(app, token, email="ann@acme.example")
    assert notes()[-1] == "ann@acme.example came back to your link to “Pricing guide” after 4 days."
    assert db.session.get(ShareLink, link["id"]).visits_count == 3
    quiet = share(client, auth.token(rep), asset_id=item.id, notify=False)
    open_as_buyer(app, token_of(quiet))
    assert len(notes()) == 2


def test_first_open_goes_by_email_when_smtp_is_set(app, client, auth, rep, item, smtp_server):  # noqa: F811
    port, messages = smtp_server
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = settings.__class__(**{**vars(settings), "smtp_host": "127.0.0.1", "smtp_port": port,
                                                   "smtp_from": "portal@example.com"})
    link = share(client, auth.token(rep), asset_id=item.id)
    open_as_buyer(app, token_of(link))
    [(recipients, content)] = messages
    assert recipients == ["rita@example.com"]
    assert "Subject: Your shared link: Someone opened your link to" in content
    assert f"/shares/{link['id']}" in content


def test_shared_deck_shows_its_slides_in_order(app, client, auth, rep, item):
    pages = item.current_version.pages
    deck = Deck(owner_id=rep.id, title="Acme meeting",
                slides=[DeckSlide(position=1, page_id=pages[2].id), DeckSlide(position=2, page_id=pages[0].id)])
    db.session.add(deck)
    db.session.commit()
    link = share(client, auth.token(rep), deck_id=deck.id)
    assert link["kind"] == "deck" and link["target"]["title"] == "Acme meeting"
    token = token_of(link)
    buyer = open_as_buyer(app, token)
    html = buyer.get(f"/s/{token}").get_data(as_text=True)
    assert 'data-pages="2"' in html and "data-src" not in html  # a deck's slides, as pictures
    assert buyer.get(f"/s/{token}/document.pdf").status_code == 404
    assert buyer.get(f"/s/{token}/pages/2.png").status_code == 200
    assert buyer.get(f"/s/{token}/pages/3.png").status_code == 404
    beacon(buyer, token, [{"number": 1, "seconds": 9}])
    row = db.session.scalar(select(SharePageView))
    assert (row.number, row.asset_id, row.page_number) == (1, item.id, 3)  # the deck's slide 1 is page 3
    db.session.get(Asset, item.id).status = "retired"
    db.session.commit()
    assert buyer.get(f"/s/{token}").status_code == 410


# --- the rep's pages ----------------------------------------------------------------------

def test_rep_pages_make_list_revoke_and_extend(app, client, auth, rep, item):
    auth.login(rep)
    form = client.get(f"/shares/new?asset_id={item.id}")
    assert form.status_code == 200 and "Pricing guide" in form.get_data(as_text=True)
    assert "Share this item" in client.get(f"/assets/{item.id}").get_data(as_text=True)
    made = client.post("/shares", data={"target": f"asset:{item.id}", "require_email": "1", "notify": "1",
                                        "account": "Acme", "expires_on": ""}, follow_redirects=True)
    html = made.get_data(as_text=True)
    assert made.status_code == 200 and "shown only once" in html
    url = re.search(r'value="(http://localhost/s/[^"]+)"', html).group(1)
    assert "shown only once" not in client.get(made.request.path).get_data(as_text=True)
    link_id = int(made.request.path.rsplit("/", 1)[1])
    listing = client.get("/shares").get_data(as_text=True)
    assert "Pricing guide" in listing and 'data-state="live"' in listing
    bad = client.post("/shares", data={"target": f"asset:{item.id}", "expires_on": "2001-01-01"})
    assert bad.status_code == 422 and "has passed" in bad.get_data(as_text=True)
    later = (date.today() + timedelta(days=90)).isoformat()
    client.post(f"/shares/{link_id}/extend", data={"expires_on": later})
    assert db.session.get(ShareLink, link_id).expires_on.isoformat() == later
    client.post(f"/shares/{link_id}/revoke")
    assert buyer_client(app).get(url.removeprefix("http://localhost")).status_code == 410
    assert 'data-state="revoked"' in client.get("/shares").get_data(as_text=True)


def test_a_browser_without_cookies_is_told_instead_of_redirected_forever(app, client, auth, rep, item):
    token = token_of(share(client, auth.token(rep), asset_id=item.id))
    first = buyer_client(app).get(f"/s/{token}")
    assert first.status_code == 303 and first.location == f"/s/{token}?opened=1"
    again = buyer_client(app).get(first.location)  # the cookie did not come back
    assert again.status_code == 400 and "Cookies needed" in again.get_data(as_text=True)


# --- analytics: buyer attention ----------------------------------------------------------

def test_buyer_attention_in_the_analytics(app, client, auth, factories, rep, item):
    from portal.analytics import asset_table, buyers, ranges
    from portal.feedback.uses import report_use

    rep.team = "East"
    west = factories.user("rep", team="West")
    db.session.commit()
    east_headers, west_headers = auth.token(rep), auth.token(west)
    read = share(client, east_headers, asset_id=item.id, opportunity="Acme renewal")
    share(client, east_headers, asset_id=item.id, opportunity="Beta pilot")  # never opened
    lost = share(client, west_headers, asset_id=item.id, opportunity=" acme  RENEWAL")
    token = token_of(read)
    for seconds_on_pricing in (30, 50):  # two buyers: page 2 (pricing) read, page 3 skipped by one
        buyer = open_as_buyer(app, token)
        pages = [{"number": 1, "seconds": 5}, {"number": 2, "seconds": seconds_on_pricing}]
        if seconds_on_pricing == 50:
            pages.append({"number": 3, "seconds": 2})
        assert beacon(buyer, token, pages).status_code == 204
    open_as_buyer(app, token_of(lost))
    report_use(rep, item.id, {"kind": "shared", "account": "Acme", "opportunity": "acme renewal",
                              "outcome": "won", "note": "", "occurred_on": date.today()})

    window = ranges.parse_range({})
    pricing = {p.number: p for p in buyers.page_attention(item.id, window)}
    assert (pricing[2].visits, pricing[2].average_seconds, pricing[2].reach) == (2, 40.0, round(2 / 3, 3))
    assert (pricing[3].visits, pricing[3].reach) == (1, round(1 / 3, 3))
    overview = buyers.sharing_overview(window)
    assert (overview.shares, overview.opened, overview.visits, overview.open_rate) == (3, 2, 3, round(2 / 3, 3))
    assert {(t.team, t.shares, t.opened) for t in overview.teams} == {("East", 2, 1), ("West", 1, 1)}
    assert overview.outcomes == {"won": 2, "lost": 0}  # both links of that opportunity; Beta is undecided
    # Buyer opens are uses: in the content score and the quadrant.
    row = asset_table.asset_row(item.id, window)
    assert row.buyer_opens == 3 and row.uses >= 3

    lead = auth.token(factories.user("enablement"))
    body = client.get("/api/v1/analytics/buyers", headers=lead).get_json()
    assert body["shares"] == 3 and body["outcomes"] == {"won": 2, "lost": 0}
    [entry] = body["items"]
    assert entry["visits"] == 3 and entry["pages"][1] == {"number": 2, "visits": 2, "seconds": 80,
                                                          "average_seconds": 40.0, "reach": 0.667}
    assert client.get("/api/v1/analytics/buyers", headers=east_headers).status_code == 403
    auth.login(db.session.get(type(rep), db.session.scalar(select(func.min(type(rep).id)).where(
        type(rep).role == "enablement"))))
    csv = client.get("/analytics/export/buyers.csv").get_data(as_text=True).splitlines()
    assert csv[0].startswith("asset_id,title,page,shares,opened,open_rate")
    assert f"{item.id},Pricing guide,2,,,,,,2,40.0,0.667" in csv
    page = client.get("/analytics/buyers").get_data(as_text=True)
    assert "Pricing guide" in page and "67%" in page
    asset_page = client.get(f"/analytics/assets/{item.id}").get_data(as_text=True)
    assert 'data-testid="buyer-page"' in asset_page
    assert "Shared 3 times in this range, opened by the buyer 2 (67%);" in asset_page
    assert "opportunities won 2, lost 0." in asset_page
    other = factories.asset(title="Unshared")
    assert buyers.sharing_overview(window, other.id).shares == 0


def test_a_shared_deck_downloads_as_its_assembled_file(app, client, auth, library):
    rep = library["rep"]
    headers = auth.token(rep)
    pa, pb = library["pa"], library["pb"]
    deck = client.post("/api/v1/decks", json={"title": "Acme kickoff", "page_ids": [pb[1].id, pa[0].id]},
                       headers=headers).get_json()
    link = share(client, headers, deck_id=deck["id"], allow_download=True)
    token = token_of(link)
    buyer = open_as_buyer(app, token)
    assert 'data-testid="share-download"' in buyer.get(f"/s/{token}").get_data(as_text=True)
    response = buyer.get(f"/s/{token}/download")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "Acme kickoff.pptx" in response.headers["Content-Disposition"]
    assert slide_titles(response.data) == ["Deck B slide 2", "Deck A slide 1"]
    assert client.get(f"/api/v1/shares/{link['id']}", headers=headers).get_json()["visits"][0]["downloaded"]


def test_the_rep_hears_of_withdrawn_content_without_waiting_for_a_buyer(app, client, auth, rep, item):
    from portal.sharing.visits import notify_withdrawn

    assert "notify_withdrawn_shares" in app.extensions["collateral_queue"].tasks
    headers = auth.token(rep)
    live, revoked = share(client, headers, asset_id=item.id), share(client, headers, asset_id=item.id)
    client.post(f"/api/v1/shares/{revoked['id']}/revoke", headers=headers)
    assert notify_withdrawn() == []
    asset = db.session.get(Asset, item.id)
    asset.expires_on = date.today() - timedelta(days=1)
    db.session.commit()
    assert notify_withdrawn() == [live["id"]]
    assert notify_withdrawn() == []  # once
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == rep.id)).all()
    assert note.message == ("The content of your link to “Pricing guide” was expired and is no longer served. "
                            "Share a current item instead.")
