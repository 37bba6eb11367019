"""The feedback API, as written in shared/api.md (ratings, reported uses, flags, reviews)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.library.services import retire_assets
from portal.models import Notification, Rating, ReportedUse


def _put(client, headers, asset_id, **body):
    return client.put(f"/api/v1/assets/{asset_id}/rating", json=body, headers=headers)


def test_put_rating_creates_then_replaces(client, auth, factories):
    rep = factories.user("rep", team="East")
    asset = factories.asset(title="Pricing deck")
    headers = auth.token(rep)
    first = _put(client, headers, asset.id, stars=2, comment="Too long")
    assert first.status_code == 200
    body = first.get_json()
    assert body["stars"] == 2 and body["comment"] == "Too long" and body["status"] == "open"
    assert body["asset"] == {"id": asset.id, "title": "Pricing deck"}
    assert body["author"] == {"id": rep.id, "email": rep.email, "team": "East"}
    assert body["created_at"].endswith("Z") and body["resolution_note"] is None

    second = _put(client, headers, asset.id, stars=4, comment="Shorter now")
    assert second.status_code == 200 and second.get_json()["id"] == body["id"]
    assert db.session.scalar(select(db.func.count()).select_from(Rating)) == 1
    other = factories.user("rep")
    _put(client, auth.token(other), asset.id, stars=1)
    got = client.get(f"/api/v1/assets/{asset.id}", headers=headers).get_json()
    assert got["rating"] == {"average": 2.5, "count": 2}  # (4 + 1) / 2: the replaced 2 no longer counts
    summary = client.get(f"/api/v1/assets/{asset.id}/ratings", headers=headers).get_json()
    assert summary["average"] == 2.5 and summary["count"] == 2 and summary["total"] == 2
    assert summary["distribution"] == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 0}
    assert summary["mine"]["stars"] == 4


@pytest.mark.parametrize("stars", [0, 6, "x", None, 2.5, True, -3])
def test_put_rating_refuses_bad_stars(client, auth, factories, stars):
    asset = factories.asset()
    response = _put(client, auth.token(factories.user("rep")), asset.id, stars=stars)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and error["fields"]["stars"] == "Choose from 1 to 5 stars."
    assert db.session.scalars(select(Rating)).all() == []


def test_put_rating_other_errors(client, auth, factories):
    marketer = factories.user("marketer")
    rep = factories.user("rep")
    asset = factories.asset(marketer)
    headers = auth.token(rep)
    long = _put(client, headers, asset.id, stars=3, comment="x" * 5001)
    assert long.status_code == 422 and "comment" in long.get_json()["error"]["fields"]
    assert _put(client, headers, asset.id, stars=3, comment="x" * 5000).status_code == 200
    assert _put(client, headers, asset.id, stars=3, comment=["list"]).status_code == 422
    assert _put(client, headers, 999_999, stars=3).status_code == 404
    assert client.put(f"/api/v1/assets/{asset.id}/rating", data="not json", headers=headers).status_code == 400
    assert client.put(f"/api/v1/assets/{asset.id}/rating", json={"stars": 3}).status_code == 401

    retire_assets([asset], marketer, "Superseded")
    hidden = _put(client, headers, asset.id, stars=3)
    assert hidden.status_code == 404 and hidden.get_json()["error"]["code"] == "not_found"
    assert _put(client, auth.token(marketer), asset.id, stars=3).status_code == 200
    expired = factories.asset(marketer, expires_on=(date.today() - timedelta(days=3)).isoformat())
    assert _put(client, headers, expired.id, stars=3).status_code == 404


def test_usage_create_list_and_edit(client, auth, factories):
    rep = factories.user("rep")
    asset = factories.asset(title="Case study")
    headers = auth.token(rep)
    created = client.post(f"/api/v1/assets/{asset.id}/usage", headers=headers, json={
        "kind": "presented", "account": "Globex", "opportunity": "OPP-1", "outcome": "open", "note": "went well"})
    assert created.status_code == 201
    use = created.get_json()
    assert use["occurred_on"] == date.today().isoformat()
    assert (use["kind"], use["account"], use["opportunity"], use["outcome"]) == ("presented", "Globex", "OPP-1", "open")
    assert use["asset"] == {"id": asset.id, "title": "Case study"} and use["user"]["id"] == rep.id
    minimal = client.post(f"/api/v1/assets/{asset.id}/usage", headers=headers,
                          json={"kind": "emailed", "outcome": None, "occurred_on": "2025-01-15"})
    assert minimal.status_code == 201 and minimal.get_json()["outcome"] is None
    assert client.get(f"/api/v1/assets/{asset.id}", headers=headers).get_json()["usage"]["reported"] == 2

    listed = client.get("/api/v1/my/usage", headers=headers).get_json()
    assert listed["total"] == 2 and [u["id"] for u in listed["items"]] == [use["id"], minimal.get_json()["id"]]
    other = factories.user("rep")
    assert client.get("/api/v1/my/usage", headers=auth.token(other)).get_json()["total"] == 0

    won = client.patch(f"/api/v1/usage/{use['id']}", headers=headers, json={"outcome": "won"})
    assert won.status_code == 200
    assert won.get_json()["outcome"] == "won" and won.get_json()["account"] == "Globex"
    assert db.session.get(ReportedUse, use["id"]).outcome == "won"

    assert client.patch(f"/api/v1/usage/{use['id']}", headers=auth.token(other),
                        json={"outcome": "lost"}).status_code == 403
    assert client.patch(f"/api/v1/usage/{use['id']}", headers=auth.token(factories.user("admin")),
                        json={"outcome": "lost"}).status_code == 403
    assert client.patch("/api/v1/usage/999999", headers=headers, json={"outcome": "lost"}).status_code == 404
    empty = client.patch(f"/api/v1/usage/{use['id']}", headers=headers, json={})
    assert empty.status_code == 422
    bad = client.patch(f"/api/v1/usage/{use['id']}", headers=headers, json={"outcome": "maybe"})
    assert bad.status_code == 422 and "outcome" in bad.get_json()["error"]["fields"]
    assert db.session.get(ReportedUse, use["id"]).outcome == "won"


@pytest.mark.parametrize("body, field", [
    ({"kind": "faxed"}, "kind"),
    ({}, "kind"),
    ({"kind": "presented", "outcome": "pending"}, "outcome"),
    ({"kind": "presented", "occurred_on": "31/12/2025"}, "occurred_on"),
    ({"kind": "presented", "occurred_on": "2025-13-01"}, "occurred_on"),
    ({"kind": "presented", "occurred_on": "2999-01-01"}, "occurred_on"),
    ({"kind": "presented", "note": "x" * 5001}, "note"),
])
def test_usage_validation(client, auth, factories, body, field):
    asset = factories.asset()
    response = client.post(f"/api/v1/assets/{asset.id}/usage", headers=auth.token(factories.user("rep")), json=body)
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"]
    assert db.session.scalars(select(ReportedUse)).all() == []


def test_usage_on_hidden_or_unknown_asset(client, auth, factories):
    marketer = factories.user("marketer")
    asset = factories.asset(marketer)
    retire_assets([asset], marketer, "Old")
    headers = auth.token(factories.user("rep"))
    assert client.post(f"/api/v1/assets/{asset.id}/usage", headers=headers, json={"kind": "other"}).status_code == 404
    assert client.post("/api/v1/assets/999999/usage", headers=headers, json={"kind": "other"}).status_code == 404
    assert client.post(f"/api/v1/assets/{asset.id}/usage", headers=auth.token(marketer),
                       json={"kind": "other"}).status_code == 201


def test_flags_notify_owner_list_and_resolve(client, auth, factories):
    owner = factories.user("marketer")
    rep = factories.user("rep", team="East")
    asset = factories.asset(owner, title="Datasheet", product="Platform", region="EMEA")
    headers = auth.token(rep)
    created = client.post(f"/api/v1/assets/{asset.id}/flags", headers=headers,
                          json={"reason_kind": "off_brand", "reason": "Old logo on page 2"})
    assert created.status_code == 201
    flag = created.get_json()
    assert (flag["reason_kind"], flag["reason"], flag["status"]) == ("off_brand", "Old logo on page 2", "open")
    note = db.session.scalars(select(Notification)).one()
    assert note.user_id == owner.id and "Old logo on page 2" in note.message
    bad = client.post(f"/api/v1/assets/{asset.id}/flags", headers=headers, json={"reason_kind": "ugly"})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"reason_kind", "reason"}

    assert client.get("/api/v1/flags", headers=headers).status_code == 403
    lead = auth.token(factories.user("enablement"))
    listed = client.get("/api/v1/flags", headers=lead).get_json()
    assert [f["id"] for f in listed["items"]] == [flag["id"]]
    assert client.get("/api/v1/flags?region=NA", headers=lead).get_json()["total"] == 0
    assert client.get("/api/v1/flags?team=East&product=Platform", headers=lead).get_json()["total"] == 1
    resolved = client.post(f"/api/v1/flags/{flag['id']}/resolve", headers=lead, json={"note": "New logo uploaded"})
    assert resolved.status_code == 200
    assert (resolved.get_json()["status"], resolved.get_json()["resolution_note"]) == ("resolved", "New logo uploaded")
    assert client.post(f"/api/v1/flags/{flag['id']}/resolve", headers=lead, json={}).status_code == 409
    assert client.post("/api/v1/flags/999999/resolve", headers=lead, json={}).status_code == 404
    assert client.get("/api/v1/flags", headers=lead).get_json()["total"] == 0
    assert client.get("/api/v1/flags?status=resolved", headers=lead).get_json()["total"] == 1


def test_reviews_filters_and_resolve(client, auth, factories):
    marketer = factories.user("marketer")
    east, west = factories.user("rep", team="East"), factories.user("rep", team="West")
    emea = factories.asset(marketer, title="EMEA deck", product="Platform", region="EMEA")
    na = factories.asset(marketer, title="NA deck", product="Analytics", region="NA")
    ids = {}
    for name, user, asset, stars, comment in (("e1", east, emea, 1, ""), ("w5", west, emea, 5, "Add SSO"),
                                              ("e2", east, na, 2, "Wrong logo"), ("w3", west, na, 3, "")):
        ids[name] = _put(client, auth.token(user), asset.id, stars=stars, comment=comment).get_json()["id"]
    lead = auth.token(factories.user("enablement"))

    def review_ids(query=""):
        response = client.get(f"/api/v1/reviews{query}", headers=lead)
        assert response.status_code == 200, response.get_json()
        return [item["id"] for item in response.get_json()["items"]]

    assert review_ids() == [ids["e2"], ids["w5"], ids["e1"]]  # newest first; 3 stars without comment left out
    assert review_ids("?max_stars=1&comments=exclude") == [ids["e1"]]
    assert review_ids("?max_stars=3&comments=exclude") == [ids["w3"], ids["e2"], ids["e1"]]
    assert review_ids("?product=Platform") == [ids["w5"], ids["e1"]]
    assert review_ids("?region=NA") == [ids["e2"]]
    assert review_ids("?team=West&max_stars=5") == [ids["w3"], ids["w5"]]
    item = client.get("/api/v1/reviews?region=NA", headers=lead).get_json()["items"][0]
    assert item["asset"] == {"id": na.id, "title": "NA deck"}
    assert item["author"] == {"id": east.id, "email": east.email, "team": "East"}
    assert (item["stars"], item["comment"], item["status"]) == (2, "Wrong logo", "open")
    for bad in ("?max_stars=0", "?max_stars=6", "?max_stars=x", "?status=closed"):
        response = client.get(f"/api/v1/reviews{bad}", headers=lead)
        assert response.status_code == 422 and response.get_json()["error"]["fields"], bad

    done = client.post(f"/api/v1/reviews/{ids['e2']}/resolve", headers=lead, json={"note": "Logo fixed in v2"})
    assert done.status_code == 200
    assert (done.get_json()["status"], done.get_json()["resolution_note"]) == ("resolved", "Logo fixed in v2")
    assert ids["e2"] not in review_ids()
    assert review_ids("?status=resolved") == [ids["e2"]]
    assert client.post(f"/api/v1/reviews/{ids['e2']}/resolve", headers=lead, json={"note": "x"}).status_code == 409
    assert client.post("/api/v1/reviews/999999/resolve", headers=lead, json={"note": "x"}).status_code == 404
    too_long = client.post(f"/api/v1/reviews/{ids['e1']}/resolve", headers=lead, json={"note": "x" * 5001})
    assert too_long.status_code == 422

    # Changing the rating puts it back in the queue.
    _put(client, auth.token(east), na.id, stars=2, comment="Logo fixed, but the chart is wrong")
    assert ids["e2"] in review_ids()

    for role in ("rep", "marketer"):
        token = auth.token(factories.user(role))
        assert client.get("/api/v1/reviews", headers=token).status_code == 403
        assert client.post(f"/api/v1/reviews/{ids['e1']}/resolve", headers=token, json={}).status_code == 403
    assert client.get("/api/v1/reviews", headers=auth.token(factories.user("admin"))).status_code == 200


def test_feedback_endpoints_in_openapi(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/assets/{asset_id}/rating", "/assets/{asset_id}/usage", "/usage/{use_id}",
                 "/reviews", "/reviews/{rating_id}/resolve", "/flags"):
        assert path in paths, path
    assert paths["/reviews"]["get"]["x-roles"] == ["enablement", "admin"]
