"""Rooms: a share link for a collection (portal/sharing). The room is the collection's
items as they were when it was shared; each item opens in the viewer under
/s/TOKEN/items/N; a withdrawn item stops alone; beacons name their item."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from assets.sample_files import make_pdf
from portal.extensions import db
from portal.models import (
    Asset,
    Collection,
    CollectionItem,
    CollectionShare,
    Notification,
    ShareLink,
    ShareLinkItem,
    SharePageView,
    ShareVisit,
)
from portal.sharing import links
from portal.sharing.content import ROOM_PAGE_STRIDE
from tests.portal.test_sharing import beacon, buyer_client, open_as_buyer, share, token_of
from tests.portal.test_sharing import rep as rep  # noqa: F401 (a fixture: Rita Rep)


def _pdf_item(factories, tmp_path, title: str, pages: int) -> Asset:
    pdf = Path(make_pdf(str(tmp_path / f"{title}.pdf"), [
        {"title": f"{title} {n}", "lines": [f"detail {n}"]} for n in range(1, pages + 1)]))
    asset = factories.asset(factories.user("marketer"), content=pdf.read_bytes(), filename=f"{title}.pdf",
                            title=title)
    db.session.refresh(asset)
    assert asset.current_version.processing == "ready" and asset.current_version.page_count == pages
    return asset


@pytest.fixture
def pricing(factories, tmp_path):
    return _pdf_item(factories, tmp_path, "Pricing guide", 3)


@pytest.fixture
def security(factories, tmp_path):
    return _pdf_item(factories, tmp_path, "Security overview", 2)


def collection_of(owner, *assets, title="Acme room") -> Collection:
    collection = Collection(owner_id=owner.id, title=title,
                            items=[CollectionItem(asset_id=a.id, position=n) for n, a in enumerate(assets, 1)])
    db.session.add(collection)
    db.session.commit()
    return collection


@pytest.fixture
def room(rep, pricing, security):  # noqa: F811
    return collection_of(rep, pricing, security)


def notices(user) -> list[str]:
    """The rep's notices of withdrawn content (not those of opens)."""
    return [n.message for n in db.session.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))
        if "no longer served" in n.message]


# --- making a room ------------------------------------------------------------------------

def test_a_rep_shares_a_collection_as_a_snapshot_of_its_items(app, client, auth, factories, rep, room,  # noqa: F811
                                                              pricing, security):
    headers = auth.token(rep)
    link = share(client, headers, collection_id=room.id, require_email=True)
    assert link["kind"] == "collection" and link["title"] == "Acme room"
    assert link["target"] == {"type": "collection", "id": room.id, "title": "Acme room", "items": [
        {"position": 1, "asset_id": pricing.id, "title": "Pricing guide"},
        {"position": 2, "asset_id": security.id, "title": "Security overview"}]}
    assert [(i.position, i.asset_id) for i in db.session.scalars(
        select(ShareLinkItem).where(ShareLinkItem.link_id == link["id"]).order_by(ShareLinkItem.position))] == [
        (1, pricing.id), (2, security.id)]
    # Items added to the collection later are not exposed through the link already sent.
    later = factories.asset(title="Roadmap 2027")
    db.session.add(CollectionItem(collection_id=room.id, asset_id=later.id, position=3))
    db.session.commit()
    again = client.get(f"/api/v1/shares/{link['id']}", headers=headers).get_json()
    assert [i["asset_id"] for i in again["target"]["items"]] == [pricing.id, security.id]
    token = token_of(link)
    buyer = open_as_buyer(app, token, email="ann@acme.example")
    html = buyer.get(f"/s/{token}").get_data(as_text=True)
    assert "Roadmap 2027" not in html
    for path in ("/items/3", "/items/3/pages/1.png", "/items/3/document.pdf", "/items/99", "/items/0"):
        assert buyer.get(f"/s/{token}{path}").status_code == 404, path
    # Deleting the collection ends its links.
    db.session.delete(db.session.get(Collection, room.id))
    db.session.commit()
    assert buyer_client(app).get(f"/s/{token}").status_code == 404


def test_room_creation_rules(client, auth, factories, rep, room, pricing, monkeypatch):  # noqa: F811
    headers = auth.token(rep)

    def refused(collection_id, status=422):
        response = client.post("/api/v1/shares", json={"collection_id": collection_id}, headers=headers)
        assert response.status_code == status, response.get_json()
        return response.get_json()["error"]

    assert "empty" in refused(collection_of(rep, title="Nothing yet").id)["message"]
    monkeypatch.setattr(links, "MAX_ROOM_ITEMS", 1)
    assert "at most 1 items; this one has 2" in refused(room.id)["fields"]["collection_id"]
    monkeypatch.undo()
    # Another rep's own collection is not theirs to see: 404, as an unknown one.
    other = factories.user("rep")
    refused(collection_of(other, pricing, title="Theirs").id, 404)
    refused(987654, 404)
    # A kit shared with everyone may be shared by any rep.
    marketer = factories.user("marketer")
    kit = collection_of(marketer, pricing, title="Healthcare kit")
    kit.shared_with_everyone = True
    db.session.commit()
    assert share(client, headers, collection_id=kit.id)["target"]["items"][0]["asset_id"] == pricing.id
    team_kit = collection_of(marketer, pricing, title="West kit")
    db.session.add(CollectionShare(collection_id=team_kit.id, scope="team", value="West"))
    db.session.commit()
    refused(team_kit.id, 404)  # not this rep's team
    # Items a buyer may not be shown are named, whoever shares: retired for the rep, a draft for staff.
    old = factories.asset(title="Price list 2024")
    old.status = "retired"
    db.session.commit()
    error = refused(collection_of(rep, pricing, old, title="With an old one").id)
    assert "“Price list 2024”" in error["fields"]["collection_id"] and "Pricing guide" not in error["message"]
    draft = factories.asset(marketer, title="Unreleased pricing", publish="draft")
    response = client.post("/api/v1/shares", json={"collection_id": collection_of(marketer, draft).id},
                           headers=auth.token(marketer))
    assert response.status_code == 422 and "Unreleased pricing" in response.get_json()["error"]["message"]
    assert db.session.scalar(select(ShareLink.id).where(ShareLink.collection_id.is_not(None),
                                                        ShareLink.owner_id == marketer.id)) is None


# --- what the buyer gets -------------------------------------------------------------------

def test_the_buyer_sees_the_room_and_opens_each_item(app, client, auth, rep, room, pricing, security):  # noqa: F811
    token = token_of(share(client, auth.token(rep), collection_id=room.id))
    buyer = open_as_buyer(app, token)
    page = buyer.get(f"/s/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Acme room" in html and "Rita Rep" in html and "mailto:rita@example.com" in html
    assert "<nav>" not in html and "Sign out" not in html and "/library" not in html
    assert html.count('data-testid="room-item"') == 2
    assert "Pricing guide" in html and "3 pages" in html and "Security overview" in html and "2 pages" in html
    assert f'src="/s/{token}/items/1/pages/1.png"' in html and f'href="/s/{token}/items/2"' in html
    urls = re.findall(r'(?:href|src|data-[a-z-]+-url)="([^"]+)"', html)
    assert urls and all(u.startswith((f"/s/{token}", "/static/", "mailto:")) for u in urls), urls
    item = buyer.get(f"/s/{token}/items/2").get_data(as_text=True)
    assert "Security overview" in item and f'href="/s/{token}"' in item  # back to the room
    assert f'data-src="/s/{token}/items/2/document.pdf"' in item and f'data-beacon-url="/s/{token}/beacon"' in item
    assert 'data-beacon-item="2"' in item and "/download" not in item  # view only
    urls = re.findall(r'(?:href|src|data-[a-z-]+-url)="([^"]+)"', item)
    assert all(u.startswith((f"/s/{token}", "/static/", "mailto:")) for u in urls), urls
    for position, pages in ((1, 3), (2, 2)):
        for number in range(1, pages + 1):
            answer = buyer.get(f"/s/{token}/items/{position}/pages/{number}.png")
            assert answer.status_code == 200 and answer.get_data().startswith(b"\x89PNG")
        assert buyer.get(f"/s/{token}/items/{position}/pages/{pages + 1}.png").status_code == 404
        document = buyer.get(f"/s/{token}/items/{position}/document.pdf")
        assert document.status_code == 200 and document.get_data().startswith(b"%PDF")
        assert not document.headers.get("Content-Disposition", "").startswith("attachment")
        assert buyer.get(f"/s/{token}/items/{position}/download").status_code == 404
    # The room itself is no document: its own file routes answer nothing.
    for path in ("/document.pdf", "/pages/1.png", "/download"):
        assert buyer.get(f"/s/{token}{path}").status_code == 404, path
    # Nothing of the portal opens through it.
    for path in (f"/api/v1/assets/{pricing.id}", f"/api/v1/collections/{room.id}"):
        assert buyer.get(path).status_code == 401, path
    assert buyer.get(f"/collections/{room.id}").status_code == 302
    # Without the visit: the files are 404, an item page leads to the room (and its gate).
    stranger = buyer_client(app)
    assert stranger.get(f"/s/{token}/items/1/pages/1.png").status_code == 404
    assert stranger.get(f"/s/{token}/items/1/document.pdf").status_code == 404
    answer = stranger.get(f"/s/{token}/items/2")
    assert answer.status_code == 303 and answer.location == f"/s/{token}"


def test_room_pages_keep_the_buyer_rules(app, client, auth, rep, room):  # noqa: F811
    token = token_of(share(client, auth.token(rep), collection_id=room.id, require_email=True, allow_download=True))
    # The rep, signed in to the portal in this browser, opens their own room through the gate.
    auth.login(rep)
    gate = client.get(f"/s/{token}/items/1", follow_redirects=True)
    assert gate.status_code == 200 and 'name="email"' in gate.get_data(as_text=True)
    passed = client.post(f"/s/{token}", data={"email": "rita@example.com"})
    assert passed.status_code == 303
    [visit_cookie] = passed.headers.getlist("Set-Cookie")
    assert visit_cookie.startswith("share_visit=") and f"Path=/s/{token};" in visit_cookie  # covers /items/...
    for path in ("", "/items/1", "/items/2", "/items/1/pages/1.png", "/items/2/document.pdf", "/items/9"):
        response = client.get(f"/s/{token}{path}")
        assert response.status_code in (200, 404), path
        assert not any(c.startswith(("session=", "remember_token=")) for c in response.headers.getlist("Set-Cookie"))
        assert response.headers["X-Robots-Tag"] == "noindex, nofollow", path
        assert response.headers["Referrer-Policy"] == "no-referrer" and response.headers["Cache-Control"] == "no-store"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    # Download allowed: each item's own file, as an attachment.
    answer = client.get(f"/s/{token}/items/2/download")
    assert answer.status_code == 200 and answer.headers["Content-Disposition"].startswith("attachment;")
    assert "Security overview.pdf" in answer.headers["Content-Disposition"] and answer.data.startswith(b"%PDF")
    assert 'data-testid="share-download"' in client.get(f"/s/{token}/items/1").get_data(as_text=True)
    assert db.session.scalar(select(ShareVisit.downloaded)) is True


def test_a_withdrawn_item_stops_alone_then_the_room(app, client, auth, rep, room, pricing, security):  # noqa: F811
    headers = auth.token(rep)
    link = share(client, headers, collection_id=room.id, allow_download=True)
    token = token_of(link)
    buyer = open_as_buyer(app, token)
    db.session.get(Asset, pricing.id).status = "retired"
    db.session.commit()
    page = buyer.get(f"/s/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "No longer available" in html
    assert f"/s/{token}/items/1" not in html and f'href="/s/{token}/items/2"' in html
    for path in ("", "/document.pdf", "/pages/1.png", "/download"):
        response = buyer.get(f"/s/{token}/items/1{path}")
        assert response.status_code == 410 and "no longer available" in response.get_data(as_text=True), path
    for path in ("", "/document.pdf", "/pages/1.png", "/download"):
        assert buyer.get(f"/s/{token}/items/2{path}").status_code == 200, path
    assert beacon(buyer, token, [{"number": 1, "seconds": 8}], item=1).status_code == 204
    assert beacon(buyer, token, [{"number": 1, "seconds": 5}], item=2).status_code == 204
    assert [(r.number, r.asset_id) for r in db.session.scalars(select(SharePageView))] == [
        (2 * ROOM_PAGE_STRIDE + 1, security.id)]
    assert notices(rep) == ["A buyer opened your link to “Acme room”, but its item “Pricing guide” was retired "
                            "and is no longer served. Share a current item instead."]
    assert client.get(f"/api/v1/shares/{link['id']}", headers=headers).get_json()["state"] == "live"
    # The last item goes: the whole room is withdrawn; the rep was told once per link.
    asset = db.session.get(Asset, security.id)
    asset.expires_on = date.today() - timedelta(days=1)
    db.session.commit()
    for path in ("", "/items/2", "/items/2/pages/1.png"):
        response = buyer.get(f"/s/{token}{path}")
        assert response.status_code == 410 and "Content withdrawn" in response.get_data(as_text=True), path
    assert beacon(buyer, token, [{"number": 1, "seconds": 5}], item=2).status_code == 204
    assert len(notices(rep)) == 1
    assert client.get(f"/api/v1/shares/{link['id']}", headers=headers).get_json()["state"] == "withdrawn"


def test_the_hourly_sweep_names_the_withdrawn_item_of_a_room(client, auth, rep, room, pricing):  # noqa: F811
    from portal.sharing.visits import notify_withdrawn

    link = share(client, auth.token(rep), collection_id=room.id)
    assert notify_withdrawn() == []
    db.session.get(Asset, pricing.id).expires_on = date.today() - timedelta(days=1)
    db.session.commit()
    assert notify_withdrawn() == [link["id"]]
    assert notify_withdrawn() == []
    assert notices(rep) == ["The item “Pricing guide” of your link to “Acme room” was expired and is no longer "
                            "served. Share a current item instead."]


# --- beacons and what the rep sees -----------------------------------------------------------

def test_room_beacons_name_their_item(app, client, auth, rep, room, pricing, security):  # noqa: F811
    headers = auth.token(rep)
    link = share(client, headers, collection_id=room.id)
    token = token_of(link)
    buyer = open_as_buyer(app, token)
    assert beacon(buyer, token, [{"number": 1, "seconds": 12}, {"number": 2, "seconds": 30},
                                 {"number": 3, "seconds": 9}], item=2).status_code == 204  # item 2 has 2 pages
    assert beacon(buyer, token, [{"number": 3, "seconds": 7}], item=1).status_code == 204
    for dropped in ({"item": 99}, {"item": 0}, {"item": -1}, {}):  # unknown item, or none named
        assert beacon(buyer, token, [{"number": 1, "seconds": 5}], **dropped).status_code == 204
    for bad in ('"2"', "true", "2.5", "[2]"):
        sent = buyer.post(f"/s/{token}/beacon", data=f'{{"item": {bad}, "pages": [{{"number": 1, "seconds": 1}}]}}')
        assert sent.status_code == 400, bad
    # The viewer's form fallback: its whole JSON body in `pages`, or the list with `item` beside it.
    assert buyer.post(f"/s/{token}/beacon", data={"csrf_token": "", "pages": json.dumps(
        {"item": 2, "pages": [{"number": 2, "seconds": 4}]})}).status_code == 204
    assert buyer.post(f"/s/{token}/beacon", data={"pages": json.dumps([{"number": 1, "seconds": 3}]),
                                                  "item": "2"}).status_code == 204
    rows = db.session.scalars(select(SharePageView).order_by(SharePageView.number)).all()
    assert [(r.number, r.asset_id, r.page_number, r.seconds) for r in rows] == [
        (ROOM_PAGE_STRIDE + 3, pricing.id, 3, 7),
        (2 * ROOM_PAGE_STRIDE + 1, security.id, 1, 15), (2 * ROOM_PAGE_STRIDE + 2, security.id, 2, 34)]
    [visit] = client.get(f"/api/v1/shares/{link['id']}", headers=headers).get_json()["visits"]
    assert visit["pages"] == [
        {"item": 1, "title": "Pricing guide", "number": 3, "seconds": 7},
        {"item": 2, "title": "Security overview", "number": 1, "seconds": 15},
        {"item": 2, "title": "Security overview", "number": 2, "seconds": 34}]
    auth.login(rep)
    detail = client.get(f"/shares/{link['id']}").get_data(as_text=True)
    assert "<th>Item</th>" in detail and 'data-testid="room-contents"' in detail
    assert re.search(r"<td>Security overview</td><td>2</td><td>34</td>", detail)


def test_room_visits_count_in_buyer_attention(app, client, auth, factories, rep, room, pricing, security):  # noqa: F811
    from portal.analytics import buyers, ranges

    token = token_of(share(client, auth.token(rep), collection_id=room.id))
    buyer = open_as_buyer(app, token)
    beacon(buyer, token, [{"number": 2, "seconds": 40}], item=2)
    window = ranges.parse_range({})
    [page] = buyers.page_attention(security.id, window)
    assert (page.number, page.visits, page.seconds, page.reach) == (2, 1, 40, 1.0)
    assert buyers.buyer_opens(window) == {security.id: 1}  # the item whose pages were read
    by_item = {i.asset_id: i for i in buyers.item_attention(window)}
    assert (by_item[security.id].shares, by_item[security.id].opened, by_item[security.id].seconds) == (1, 1, 40)
    assert (by_item[pricing.id].shares, by_item[pricing.id].visits) == (1, 0)
    assert buyers.sharing_overview(window, pricing.id).shares == 1


# --- the rep's pages ----------------------------------------------------------------------------

def test_the_collection_page_leads_to_a_preset_share_form(app, client, auth, factories, rep, room):  # noqa: F811
    auth.login(rep)
    show = client.get(f"/collections/{room.id}").get_data(as_text=True)
    assert f'href="/shares/new?collection_id={room.id}"' in show and "Share with a buyer" in show
    form = client.get(f"/shares/new?collection_id={room.id}").get_data(as_text=True)
    assert f'<option value="collection:{room.id}" selected>Collection: Acme room (2 items)</option>' in form
    made = client.post("/shares", data={"target": f"collection:{room.id}", "notify": "1"}, follow_redirects=True)
    assert made.status_code == 200 and "shown only once" in made.get_data(as_text=True)
    assert "Collection shared by Rita Rep" in made.get_data(as_text=True)
    empty = collection_of(rep, title="Nothing yet")
    refused = client.post("/shares", data={"target": f"collection:{empty.id}"})
    assert refused.status_code == 422 and "This collection is empty" in refused.get_data(as_text=True)
    other = collection_of(factories.user("rep"), title="Theirs")
    assert client.get(f"/shares/new?collection_id={other.id}").status_code == 404
