"""Hostile input and hostile pages: ids too large for the database, JSON nested
too deep, and the browser security headers on every response."""

from __future__ import annotations

import io

import pytest

from portal.hardening import _storage_origin, content_security_policy
from portal.ids import MAX_ID, whole_number

TOO_LARGE = [str(MAX_ID + 1), str(2**63), str(2**64)]


@pytest.mark.parametrize("number", TOO_LARGE)
def test_ids_too_large_for_the_database_are_not_found(client, auth, factories, number):
    user = factories.user("admin")
    headers = auth.token(user)
    for url in (f"/api/v1/assets/{number}", f"/api/v1/decks/{number}", f"/api/v1/pages/{number}/thumbnail",
                f"/api/v1/assets/{number}/pages", f"/api/v1/reviews/{number}/resolve"):
        method = "POST" if url.endswith("resolve") else "GET"
        response = client.open(url, method=method, headers=headers, json={} if method == "POST" else None)
        assert response.status_code == 404, (url, response.status_code)
        assert response.get_json()["error"]["code"] == "not_found"
    auth.login(user)
    for url in (f"/assets/{number}", f"/pages/{number}/thumbnail", f"/decks/{number}"):
        response = client.get(url)
        assert response.status_code == 404, (url, response.status_code)


@pytest.mark.parametrize("number", TOO_LARGE)
def test_numbers_too_large_in_query_strings_and_json(client, auth, factories, number):
    user = factories.user("admin")
    headers = auth.token(user)
    asset = factories.asset(user)
    # Query arguments: out of range is like absent (a click without a page; the current version).
    auth.login(user)
    click = client.get(f"/search/click/{asset.id}?page={number}&log={number}")
    assert click.status_code == 302 and click.location.endswith(f"/assets/{asset.id}")
    assert client.get(f"/assets/{asset.id}/download?version={number}").status_code == 200
    assert client.get(f"/api/v1/assets/{asset.id}/download?version={number}", headers=headers).status_code == 200
    for url in (f"/api/v1/assets?page={number}", f"/api/v1/search?q=x&page={number}",
                f"/api/v1/assets?per_page={number}"):
        response = client.get(url, headers=headers)
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request", url
    assert client.get(f"/library?page={number}").status_code == 200
    # Ids in JSON bodies.
    deck = client.post("/api/v1/decks", json={"title": "x", "page_ids": [int(number)]}, headers=headers)
    assert deck.status_code == 422 and number in deck.get_json()["error"]["message"]
    retire = client.post("/api/v1/analytics/retire", json={"asset_ids": [int(number)], "reason": "x"},
                         headers=headers)
    assert retire.status_code == 400 and retire.get_json()["error"]["code"] == "bad_request"


def test_whole_number():
    assert whole_number("42") == 42 and whole_number(7) == 7 and whole_number(str(MAX_ID)) == MAX_ID
    for bad in (True, -1, MAX_ID + 1, "4.2", "²", "", " ", 3.0, None, "1e3"):
        with pytest.raises(ValueError):
            whole_number(bad)


DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize("deep", [DEEP, '{"a":' * 5000 + "1" + "}" * 5000])
def test_deeply_nested_json_is_bad_input_everywhere(client, auth, factories, deep):
    response = client.post("/api/v1/tokens", data=deep, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"

    rep = factories.user("rep")
    asset = factories.asset()
    headers = {**auth.token(rep), "Content-Type": "application/json"}
    for method, url in (("POST", "/api/v1/decks"), ("PUT", f"/api/v1/assets/{asset.id}/rating"),
                        ("POST", f"/api/v1/assets/{asset.id}/usage"), ("POST", f"/api/v1/assets/{asset.id}/flags")):
        response = client.open(url, method=method, data=deep, headers=headers)
        assert response.status_code == 400, (url, response.status_code)
        assert response.get_json()["error"]["code"] == "bad_request"
    auth.login(rep)
    response = client.post("/decks/tray/add", data=deep, headers={"Content-Type": "application/json",
                                                                  "Accept": "application/json"})
    assert response.status_code in (400, 422)


def _assert_security_headers(response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"  # no inline script, no CDN, no eval
    assert policy["default-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'self'"
    assert "http" not in response.headers["Content-Security-Policy"]  # nothing from another host locally


def test_every_kind_of_response_carries_the_security_headers(client, auth, factories):
    responses = [client.get("/login"), client.get("/library"), client.get("/api/v1/openapi.json"),
                 client.get("/api/v1/assets"), client.get("/nowhere")]
    user = factories.user("marketer")
    asset = factories.asset(user, content=b"plain text", filename="notes.txt")
    auth.login(user)
    responses += [client.get("/library"), client.get(f"/assets/{asset.id}/download"),
                  client.get(f"/assets/{asset.id}"), client.get("/static/app.js")]
    for response in responses:
        _assert_security_headers(response)


def test_the_policy_lets_images_and_files_come_from_the_s3_endpoint():
    policy = content_security_policy("https://s3.example.com")
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    for name in ("img-src", "media-src", "connect-src", "form-action"):
        assert "https://s3.example.com" in directives[name], name
    assert directives["script-src"] == "'self'"

    class FakeApp:
        extensions = {"collateral_storage": type("S3", (), {"endpoint_url": "http://127.0.0.1:8333/"})()}

    assert _storage_origin(FakeApp()) == "http://127.0.0.1:8333"
    FakeApp.extensions = {"collateral_storage": object()}  # local storage: files come from the portal
    assert _storage_origin(FakeApp()) is None


def test_no_template_inlines_a_script_but_data(app):
    """script-src 'self': inline scripts do not run; JSON data blocks are fine."""
    import re
    from pathlib import Path

    offenders = []
    for path in Path(app.template_folder).resolve().rglob("*.html"):
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(path.name)
        if "javascript:" in text or re.search(r"\son[a-z]+=", text):
            offenders.append(path.name)
    # analytics/retirement.html's select-all script and error.html's javascript: "Go
    # back" link are moved out by the templates work done in parallel (issue 13);
    # nothing else may appear here.
    assert set(offenders) <= {"retirement.html", "error.html"}, offenders



# --- found by schemathesis (tests/portal/test_openapi.py) on PostgreSQL -----------------------

def test_nul_characters_are_bad_input_not_a_database_error(client, auth, factories):
    """PostgreSQL text cannot hold NUL: a query argument, JSON string or form field with one
    gave a 500 (psycopg DataError) on PostgreSQL; it is refused as bad input everywhere."""
    user = factories.user("admin")
    headers = auth.token(user)
    asset = factories.asset(user)
    for url in ("/api/v1/assets?persona=%00x", "/api/v1/search?q=a%00b", "/api/v1/search/pages?q=%00",
                "/api/v1/assets?x%00=1", "/api/v1/flags?team=%00"):
        response = client.get(url, headers=headers)
        assert response.status_code == 400, (url, response.status_code)
        assert "NUL" in response.get_json()["error"]["message"]
    for method, url, body in (("PATCH", f"/api/v1/assets/{asset.id}", {"title": "a\u0000b"}),
                              ("POST", "/api/v1/tokens", {"email": "\u0000", "password": "x"}),
                              ("PUT", f"/api/v1/assets/{asset.id}/rating", {"stars": 3, "comment": "\u0000"})):
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code == 400, (url, response.status_code)
    upload = client.post("/api/v1/assets", headers=headers, content_type="multipart/form-data",
                         data={"title": "a\x00b", "file": (io.BytesIO(b"some text"), "note.txt")})
    assert upload.status_code == 422 and "NUL" in upload.get_json()["error"]["fields"]["title"]
    auth.login(user)
    assert client.get("/search?q=%00").status_code == 400
    assert client.get(f"/api/v1/assets/{asset.id}", headers=headers).get_json()["title"] == asset.title


def test_an_owner_id_filter_too_large_for_the_database_is_bad_input(client, auth, factories):
    """`GET /assets?owner_id=1336861987037` gave a 500 on PostgreSQL (integer out of range)."""
    headers = auth.token(factories.user("admin"))
    for number in TOO_LARGE:
        response = client.get(f"/api/v1/assets?owner_id={number}", headers=headers)
        assert response.status_code == 400 and response.get_json()["error"]["fields"]["owner_id"]
    assert client.get("/api/v1/assets?owner_id=1", headers=headers).status_code == 200
