"""The Assets API, as written in shared/api.md."""

from __future__ import annotations

import io

from portal.extensions import db
from portal.models import Asset, AssetVersion


def post_asset(client, headers, data=b"deck bytes", filename="deck.pptx", **fields):
    form = {"title": "Security overview", "content_type": "deck", "tags": "security,soc2", **fields,
            "file": (io.BytesIO(data), filename)}
    return client.post("/api/v1/assets", data=form, headers=headers, content_type="multipart/form-data")


def test_token_and_errors_shape(client, factories):
    user = factories.user("rep")
    assert client.post("/api/v1/tokens", json={"email": user.email, "password": "nope"}).status_code == 401
    response = client.get("/api/v1/assets")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    bad = client.get("/api/v1/assets", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_session_cookie_does_not_authenticate_api(client, auth, factories):
    auth.login(factories.user("marketer"))
    assert client.get("/api/v1/assets").status_code == 401


def test_create_get_patch_list(client, auth, factories):
    marketer = factories.user("marketer")
    headers = auth.token(marketer)
    created = post_asset(client, headers, product="Platform", expires_on="2099-01-01")
    assert created.status_code == 201
    body = created.get_json()
    assert body["title"] == "Security overview" and body["tags"] == ["security", "soc2"]
    assert body["status"] == "published" and body["expires_on"] == "2099-01-01"
    assert body["owner"] == {"id": marketer.id, "email": marketer.email}
    version = body["current_version"]
    assert version["number"] == 1 and version["filename"] == "deck.pptx" and version["size"] == 10
    assert version["processing"] in ("pending", "ready", "failed") and len(version["sha256"]) == 64
    assert body["versions_count"] == 1
    assert body["rating"] == {"average": None, "count": 0}
    assert set(body["usage"]) == {"views", "downloads", "reported", "deck_inclusions"}
    asset_id = body["id"]

    patched = client.patch(f"/api/v1/assets/{asset_id}", json={"title": "Security 2027", "region": "NA"}, headers=headers)
    assert patched.status_code == 200 and patched.get_json()["title"] == "Security 2027"
    assert client.get(f"/api/v1/assets/{asset_id}", headers=headers).get_json()["region"] == "NA"

    listing = client.get("/api/v1/assets?region=NA", headers=headers).get_json()
    assert listing["total"] == 1 and listing["page"] == 1 and listing["per_page"] == 20
    assert client.get("/api/v1/assets?region=EMEA", headers=headers).get_json()["total"] == 0


def test_versions_and_download(client, auth, factories):
    marketer = factories.user("marketer")
    headers = auth.token(marketer)
    asset_id = post_asset(client, headers, data=b"one").get_json()["id"]
    second = client.post(f"/api/v1/assets/{asset_id}/versions", data={"file": (io.BytesIO(b"two"), "deck-v2.txt")},
                         headers=headers, content_type="multipart/form-data")
    assert second.status_code == 201 and second.get_json()["current_version"]["number"] == 2
    versions = client.get(f"/api/v1/assets/{asset_id}/versions", headers=headers).get_json()
    assert [v["number"] for v in versions["items"]] == [2, 1]
    assert client.get(f"/api/v1/assets/{asset_id}/download", headers=headers).data == b"two"
    assert client.get(f"/api/v1/assets/{asset_id}/download?version=1", headers=headers).data == b"one"
    rep_headers = auth.token(factories.user("rep"))
    assert [v["number"] for v in client.get(f"/api/v1/assets/{asset_id}/versions", headers=rep_headers).get_json()["items"]] == [2]
    assert client.get(f"/api/v1/assets/{asset_id}/download?version=1", headers=rep_headers).status_code == 404
    assert client.get(f"/api/v1/assets/{asset_id}", headers=headers).get_json()["usage"]["downloads"] == 2


def test_retire_restore_visibility(client, auth, factories):
    headers = auth.token(factories.user("marketer"))
    rep = auth.token(factories.user("rep"))
    asset_id = post_asset(client, headers, filename="deck.txt").get_json()["id"]  # a file that processes
    assert client.post(f"/api/v1/assets/{asset_id}/retire", json={}, headers=headers).status_code == 422
    retired = client.post(f"/api/v1/assets/{asset_id}/retire", json={"reason": "outdated"}, headers=headers)
    assert retired.status_code == 200 and retired.get_json()["status"] == "retired"
    assert client.post(f"/api/v1/assets/{asset_id}/retire", json={"reason": "again"}, headers=headers).status_code == 409
    for url in (f"/api/v1/assets/{asset_id}", f"/api/v1/assets/{asset_id}/download", f"/api/v1/assets/{asset_id}/pages"):
        assert client.get(url, headers=rep).status_code == 404
    assert client.get("/api/v1/assets", headers=rep).get_json()["total"] == 0
    assert client.get("/api/v1/assets?status=retired", headers=headers).get_json()["total"] == 1
    restored = client.post(f"/api/v1/assets/{asset_id}/restore", headers=headers)
    assert restored.status_code == 200 and restored.get_json()["status"] == "published"
    assert client.get(f"/api/v1/assets/{asset_id}", headers=rep).status_code == 200


def test_rep_cannot_write(client, auth, factories):
    rep = auth.token(factories.user("rep"))
    response = post_asset(client, rep)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert db.session.scalar(db.select(db.func.count()).select_from(Asset)) == 0


def test_bad_input_is_clear_and_stores_nothing(client, auth, factories, app):
    headers = auth.token(factories.user("marketer"))
    storage_root = app.config["SETTINGS"].files_dir

    def stored_files():
        return [p for p in storage_root.rglob("*") if p.is_file()] if storage_root.exists() else []

    empty = post_asset(client, headers, data=b"")
    assert empty.status_code == 422 and "empty" in empty.get_json()["error"]["message"]
    no_title = post_asset(client, headers, title="")
    assert no_title.status_code == 422 and "title" in no_title.get_json()["error"]["fields"]
    bad_type = post_asset(client, headers, content_type="poster")
    assert bad_type.status_code == 422 and "content_type" in bad_type.get_json()["error"]["fields"]
    bad_date = post_asset(client, headers, expires_on="31/12/2026")
    assert bad_date.status_code == 422 and "expires_on" in bad_date.get_json()["error"]["fields"]
    no_file = client.post("/api/v1/assets", data={"title": "x"}, headers=headers, content_type="multipart/form-data")
    assert no_file.status_code == 400
    assert client.get("/api/v1/assets/999999", headers=headers).status_code == 404
    assert client.patch("/api/v1/assets/999999", json={"title": "x"}, headers=headers).status_code == 404
    assert client.patch("/api/v1/assets/1", data="not json", headers=headers).status_code in (400, 404)
    assert db.session.scalar(db.select(db.func.count()).select_from(Asset)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(AssetVersion)) == 0
    assert stored_files() == []


def test_oversized_upload_is_413_and_stores_nothing(client, auth, factories, app):
    app.config["MAX_CONTENT_LENGTH"] = 10 * 1024 * 1024  # keep the test small
    headers = auth.token(factories.user("marketer"))
    big = post_asset(client, headers, data=b"x" * (11 * 1024 * 1024))
    assert big.status_code == 413 and big.get_json()["error"]["code"] == "too_large"
    assert db.session.scalar(db.select(db.func.count()).select_from(Asset)) == 0


def test_file_over_limit_inside_request_limit_is_413(client, auth, factories, app, monkeypatch):
    from dataclasses import replace

    settings = replace(app.config["SETTINGS"], max_upload_mb=1)
    monkeypatch.setitem(app.config, "SETTINGS", settings)
    headers = auth.token(factories.user("marketer"))
    response = post_asset(client, headers, data=b"y" * (1024 * 1024 + 10))
    assert response.status_code == 413
    assert db.session.scalar(db.select(db.func.count()).select_from(Asset)) == 0
    root = settings.files_dir
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]


def test_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.") and "/assets/{asset_id}" in doc["paths"]
    assert "patch" in doc["paths"]["/assets/{asset_id}"]


def test_owner_can_be_named(client, auth, factories):
    marketer = factories.user("marketer")
    other = factories.user("marketer", email="owner@example.com")
    rep = factories.user("rep", email="rep-owner@example.com")
    headers = auth.token(marketer)
    created = post_asset(client, headers, owner_email="owner@example.com").get_json()
    assert created["owner"] == {"id": other.id, "email": "owner@example.com"}
    refused = client.patch(f"/api/v1/assets/{created['id']}", json={"owner_email": rep.email}, headers=headers)
    assert refused.status_code == 422 and "owner_email" in refused.get_json()["error"]["fields"]
    moved = client.patch(f"/api/v1/assets/{created['id']}", json={"owner_email": marketer.email}, headers=headers)
    assert moved.get_json()["owner"]["email"] == marketer.email
