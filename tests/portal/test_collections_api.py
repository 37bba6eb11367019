"""Favourites and collections through the JSON API: roles, sharing rules, bounds,
unknown ids, bad input and retired items (docs/api.md, "Reading and keeping")."""

from __future__ import annotations

import pytest

from portal.collections import favorites, services
from portal.extensions import db
from portal.library.services import retire_assets


@pytest.fixture
def people(factories):
    return {
        "marketer": factories.user("marketer", team="Product marketing", region="Global"),
        "rep": factories.user("rep", team="Mid-market", region="North America"),
        "other_rep": factories.user("rep", team="Enterprise", region="EMEA"),
        "emea_rep": factories.user("rep", team="Public sector", region="EMEA"),
    }


def test_favourites_put_list_delete(client, auth, factories, people):
    first = factories.asset(people["marketer"], title="Pricing overview")
    second = factories.asset(people["marketer"], title="Security datasheet")
    headers = auth.token(people["rep"])
    assert client.get("/api/v1/favorites", headers=headers).get_json()["items"] == []
    for asset in (first, second, first):  # favouriting again changes nothing
        assert client.put(f"/api/v1/favorites/{asset.id}", headers=headers).status_code == 204
    listed = client.get("/api/v1/favorites", headers=headers).get_json()
    assert [a["title"] for a in listed["items"]] == ["Security datasheet", "Pricing overview"]
    assert listed["total"] == 2 and listed["items"][0]["available"] is True
    assert client.delete(f"/api/v1/favorites/{second.id}", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/favorites/{second.id}", headers=headers).status_code == 204
    assert [a["id"] for a in client.get("/api/v1/favorites", headers=headers).get_json()["items"]] == [first.id]
    # Someone else's favourites are their own.
    assert client.get("/api/v1/favorites", headers=auth.token(people["other_rep"])).get_json()["total"] == 0


def test_favourites_refuse_unknown_and_hidden_items(client, auth, factories, people):
    asset = factories.asset(people["marketer"])
    retire_assets([asset], people["marketer"], "old")
    headers = auth.token(people["rep"])
    assert client.put("/api/v1/favorites/999999", headers=headers).status_code == 404
    assert client.put(f"/api/v1/favorites/{2**40}", headers=headers).status_code == 404
    assert client.delete("/api/v1/favorites/999999", headers=headers).status_code == 404
    assert client.put(f"/api/v1/favorites/{asset.id}", headers=headers).status_code == 404  # reps: retired is gone
    assert client.put(f"/api/v1/favorites/{asset.id}", headers=auth.token(people["marketer"])).status_code == 204
    assert client.get("/api/v1/favorites").status_code == 401


def test_favourites_are_bounded(client, auth, factories, people, monkeypatch):
    monkeypatch.setattr(favorites, "MAX_FAVORITES", 2)
    assets = [factories.asset(people["marketer"]) for _ in range(3)]
    headers = auth.token(people["rep"])
    for asset in assets[:2]:
        assert client.put(f"/api/v1/favorites/{asset.id}", headers=headers).status_code == 204
    refused = client.put(f"/api/v1/favorites/{assets[2].id}", headers=headers)
    assert refused.status_code == 422
    assert "2 favourites" in refused.get_json()["error"]["message"]


def test_a_retired_favourite_shows_as_retired_with_the_newer_item(client, auth, factories, people):
    old = factories.asset(people["marketer"], title="Pricing overview")
    headers = auth.token(people["rep"])
    client.put(f"/api/v1/favorites/{old.id}", headers=headers)
    newer = factories.asset(people["marketer"], title="Pricing  Overview")  # same title, spaced and cased apart
    retire_assets([old], people["marketer"], "superseded")
    item = client.get("/api/v1/favorites", headers=headers).get_json()["items"][0]
    assert item["id"] == old.id and item["available"] is False and item["unavailable_reason"] == "Retired"
    assert item["superseded_by"] == {"id": newer.id, "title": "Pricing  Overview"}


def test_rep_keeps_a_personal_collection(client, auth, factories, people):
    a, b, c = (factories.asset(people["marketer"], title=t) for t in ("Alpha", "Beta", "Gamma"))
    headers = auth.token(people["rep"])
    created = client.post("/api/v1/collections", headers=headers, json={
        "title": "  Acme   renewal ", "description": "For Thursday", "asset_ids": [b.id, a.id, b.id]})
    assert created.status_code == 201
    body = created.get_json()
    assert body["title"] == "Acme renewal" and body["kind"] == "personal" and body["editable"] is True
    assert [i["title"] for i in body["items"]] == ["Beta", "Alpha"]  # in order, once each
    assert body["shared_with"] == {"everyone": False, "teams": [], "regions": []}
    assert body["owner"]["email"] == people["rep"].email

    cid = body["id"]
    renamed = client.put(f"/api/v1/collections/{cid}", headers=headers,
                         json={"title": "Acme", "description": ""}).get_json()
    assert renamed["title"] == "Acme" and [i["title"] for i in renamed["items"]] == ["Beta", "Alpha"]
    reordered = client.put(f"/api/v1/collections/{cid}", headers=headers,
                           json={"title": "Acme", "asset_ids": [a.id, c.id, b.id]}).get_json()
    assert [i["title"] for i in reordered["items"]] == ["Alpha", "Gamma", "Beta"]

    listed = client.get("/api/v1/collections", headers=headers).get_json()
    assert [(c["title"], c["item_count"]) for c in listed["items"]] == [("Acme", 3)]
    # Nobody else sees a personal collection, not even another role's staff.
    for other in (people["other_rep"], people["marketer"]):
        other_headers = auth.token(other)
        assert client.get(f"/api/v1/collections/{cid}", headers=other_headers).status_code == 404
        assert client.put(f"/api/v1/collections/{cid}", headers=other_headers, json={"title": "x"}).status_code == 404
        assert client.get("/api/v1/collections", headers=other_headers).get_json()["total"] == 0
    assert client.delete(f"/api/v1/collections/{cid}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/collections/{cid}", headers=headers).status_code == 404


def test_only_staff_share_beyond_themselves(client, auth, factories, people):
    asset = factories.asset(people["marketer"])
    headers = auth.token(people["rep"])
    for shared_with in ({"everyone": True}, {"teams": ["Mid-market"]}, {"regions": ["EMEA"]}):
        refused = client.post("/api/v1/collections", headers=headers,
                              json={"title": "Mine", "asset_ids": [asset.id], "shared_with": shared_with})
        assert refused.status_code == 403, shared_with
        assert "marketers, enablement leads and admins" in refused.get_json()["error"]["message"]
    mine = client.post("/api/v1/collections", headers=headers, json={
        "title": "Mine", "shared_with": {"everyone": False, "teams": [], "regions": []}})
    assert mine.status_code == 201
    assert client.put(f"/api/v1/collections/{mine.get_json()['id']}", headers=headers,
                      json={"title": "Mine", "shared_with": {"teams": ["Mid-market"]}}).status_code == 403
    assert services.audience_of(db.session.get(services.Collection, mine.get_json()["id"])).is_shared is False


def test_a_kit_reaches_its_team_region_or_everyone(client, auth, factories, people):
    asset = factories.asset(people["marketer"], title="Discovery questions")
    staff = auth.token(people["marketer"])

    def kit(title, shared_with):
        response = client.post("/api/v1/collections", headers=staff,
                               json={"title": title, "asset_ids": [asset.id], "shared_with": shared_with})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    team_kit = kit("Healthcare discovery kit", {"teams": ["Mid-market"]})
    region_kit = kit("EMEA pricing kit", {"regions": ["EMEA"]})
    everyone_kit = kit("Company overview", {"everyone": True})
    assert team_kit["kind"] == "kit" and team_kit["shared_with"]["teams"] == ["Mid-market"]

    def seen_by(user):
        return {c["title"] for c in client.get("/api/v1/collections", headers=auth.token(user)).get_json()["items"]}

    assert seen_by(people["rep"]) == {"Healthcare discovery kit", "Company overview"}
    assert seen_by(people["other_rep"]) == {"EMEA pricing kit", "Company overview"}
    assert seen_by(people["emea_rep"]) == {"EMEA pricing kit", "Company overview"}

    rep = auth.token(people["rep"])
    got = client.get(f"/api/v1/collections/{team_kit['id']}", headers=rep).get_json()
    assert got["editable"] is False and [i["title"] for i in got["items"]] == ["Discovery questions"]
    assert client.get(f"/api/v1/collections/{region_kit['id']}", headers=rep).status_code == 404
    # Receiving a kit is not curating it.
    assert client.put(f"/api/v1/collections/{team_kit['id']}", headers=rep, json={"title": "Mine now"}).status_code == 403
    assert client.delete(f"/api/v1/collections/{everyone_kit['id']}", headers=rep).status_code == 403
    # The home page lists the kits shared with the rep.
    home = client.get("/api/v1/home", headers=rep).get_json()
    assert {c["title"] for c in home["collections"]} == {"Healthcare discovery kit", "Company overview"}
    # Narrowing the kit takes it away from those no longer in its audience.
    client.put(f"/api/v1/collections/{team_kit['id']}", headers=staff,
               json={"title": "Healthcare discovery kit", "shared_with": {"teams": ["Enterprise"]}})
    assert "Healthcare discovery kit" not in seen_by(people["rep"])
    assert "Healthcare discovery kit" in seen_by(people["other_rep"])


def test_admins_may_change_any_kit(client, auth, factories, people):
    staff = auth.token(people["marketer"])
    kit = client.post("/api/v1/collections", headers=staff,
                      json={"title": "Kit", "shared_with": {"everyone": True}}).get_json()
    admin = auth.token(factories.user("admin"))
    assert client.put(f"/api/v1/collections/{kit['id']}", headers=admin, json={"title": "Renamed"}).status_code == 200
    assert client.delete(f"/api/v1/collections/{kit['id']}", headers=admin).status_code == 204


BAD_BODIES = [
    ({}, 422, "title"),
    ({"title": ""}, 422, "title"),
    ({"title": 5}, 422, "title"),
    ({"title": "x" * 201}, 422, "title"),
    ({"title": "ok", "description": "x" * 2001}, 422, "description"),
    ({"title": "ok", "asset_ids": "1,2"}, 422, "asset_ids"),
    ({"title": "ok", "asset_ids": [2**40]}, 422, "asset_ids"),
    ({"title": "ok", "asset_ids": [True]}, 422, "asset_ids"),
    ({"title": "ok", "asset_ids": [999999]}, 422, "asset_ids"),
    ({"title": "ok", "shared_with": "everyone"}, 422, "shared_with"),
    ({"title": "ok", "shared_with": {"everyone": "yes"}}, 422, "shared_with"),
    ({"title": "ok", "shared_with": {"teams": [1]}}, 422, "shared_with"),
    ({"title": "ok", "shared_with": {"teams": ["x" * 101]}}, 422, "shared_with"),
    ({"title": "ok", "shared_with": {"regions": [f"r{n}" for n in range(51)]}}, 422, "shared_with"),
]


def test_bad_collection_bodies_are_refused(client, auth, factories):
    headers = auth.token(factories.user("marketer"))
    for body, status, field in BAD_BODIES:
        response = client.post("/api/v1/collections", headers=headers, json=body)
        assert response.status_code == status, body
        assert field in response.get_json()["error"]["fields"], body
    assert client.get("/api/v1/collections", headers=headers).get_json()["total"] == 0


def test_malformed_json_and_unknown_ids(client, auth, people):
    headers = {**auth.token(people["rep"]), "Content-Type": "application/json"}
    assert client.post("/api/v1/collections", headers=headers, data="{not json").status_code == 400
    assert client.get("/api/v1/collections/999999", headers=headers).status_code == 404
    assert client.get(f"/api/v1/collections/{2**40}", headers=headers).status_code == 404
    assert client.delete("/api/v1/collections/999999", headers=headers).status_code == 404
    assert client.get("/api/v1/collections?per_page=1000", headers=headers).status_code == 400


def test_a_rep_cannot_add_what_they_may_not_see(client, auth, factories, people):
    retired = factories.asset(people["marketer"], title="Old prices")
    retire_assets([retired], people["marketer"], "stale")
    response = client.post("/api/v1/collections", headers=auth.token(people["rep"]),
                           json={"title": "Mine", "asset_ids": [retired.id]})
    assert response.status_code == 422 and str(retired.id) in response.get_json()["error"]["message"]


def test_collections_are_bounded(client, auth, factories, people, monkeypatch):
    monkeypatch.setattr(services, "MAX_ITEMS", 2)
    monkeypatch.setattr(services, "MAX_COLLECTIONS", 2)
    assets = [factories.asset(people["marketer"]) for _ in range(3)]
    headers = auth.token(people["rep"])
    too_many = client.post("/api/v1/collections", headers=headers,
                           json={"title": "Big", "asset_ids": [a.id for a in assets]})
    assert too_many.status_code == 422 and "at most 2 items" in too_many.get_json()["error"]["message"]
    for n in range(2):
        assert client.post("/api/v1/collections", headers=headers, json={"title": f"C{n}"}).status_code == 201
    refused = client.post("/api/v1/collections", headers=headers, json={"title": "C3"})
    assert refused.status_code == 422 and "2 collections" in refused.get_json()["error"]["message"]


def test_retired_and_expired_items_stay_in_a_kit_marked(client, auth, factories, people):
    from datetime import date, timedelta

    old = factories.asset(people["marketer"], title="Battlecard: Contoso")
    expiring = factories.asset(people["marketer"], title="Q3 promotion")
    kept = factories.asset(people["marketer"], title="Overview")
    staff = auth.token(people["marketer"])
    kit = client.post("/api/v1/collections", headers=staff, json={
        "title": "Competitive kit", "asset_ids": [old.id, expiring.id, kept.id],
        "shared_with": {"teams": ["Mid-market"]}}).get_json()
    newer = factories.asset(people["marketer"], title="Battlecard: Contoso")
    retire_assets([old], people["marketer"], "superseded by the new battlecard")
    expiring.expires_on = date.today() - timedelta(days=1)
    db.session.commit()

    items = client.get(f"/api/v1/collections/{kit['id']}", headers=auth.token(people["rep"])).get_json()["items"]
    assert [(i["title"], i["available"], i["unavailable_reason"]) for i in items] == [
        ("Battlecard: Contoso", False, "Retired"), ("Q3 promotion", False, "Expired"), ("Overview", True, None)]
    assert items[0]["superseded_by"]["id"] == newer.id and items[1]["superseded_by"] is None
    # The curator can still reorder a kit holding retired items.
    again = client.put(f"/api/v1/collections/{kit['id']}", headers=staff, json={
        "title": "Competitive kit", "asset_ids": [kept.id, old.id, expiring.id]})
    assert again.status_code == 200
