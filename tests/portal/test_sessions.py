"""Sessions can be revoked: signing out and changing a password make every copy of
the session cookie and of the remember-me cookie worthless (User.session_token is
what both carry), and both cookies carry Secure, HttpOnly and SameSite=Lax in
production."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import create_engine, text

from portal import create_app
from portal.admin.services import save_user
from portal.config import ConfigError, load_settings
from portal.extensions import db
from portal.models import User
from tests.conftest import PASSWORD

SESSION, REMEMBER = "session", "remember_token"


def _sign_in_remembered(client, user) -> dict[str, str]:
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "1"})
    assert response.status_code == 302
    cookies = {name: client.get_cookie(name) for name in (SESSION, REMEMBER)}
    assert all(cookies.values()), cookies
    return {name: cookie.value for name, cookie in cookies.items()}


def _replay(app, cookies: dict[str, str]):
    """A request from another browser that copied these cookies (the stolen-cookie case)."""
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief.get("/library")


def _assert_replays_refused(app, stolen: dict[str, str]) -> None:
    for cookies in (stolen, {SESSION: stolen[SESSION]}, {REMEMBER: stolen[REMEMBER]}):
        response = _replay(app, cookies)
        assert response.status_code == 302 and response.location.startswith("/login"), (
            sorted(cookies), response.status_code)


def test_replayed_cookies_are_refused_after_sign_out(app, client, factories):
    user = factories.user("rep")
    stolen = _sign_in_remembered(client, user)
    # Before signing out, each cookie alone signs the copy in.
    for cookies in ({SESSION: stolen[SESSION]}, {REMEMBER: stolen[REMEMBER]}):
        assert _replay(app, cookies).status_code == 200, sorted(cookies)

    assert client.post("/logout").status_code == 302
    _assert_replays_refused(app, stolen)
    assert client.get("/library").status_code == 302


def test_replayed_cookies_are_refused_after_a_password_change(app, client, factories):
    user = factories.user("rep")
    stolen = _sign_in_remembered(client, user)
    admin = factories.user("admin")
    admin_client = app.test_client()
    admin_client.post("/login", data={"email": admin.email, "password": PASSWORD})
    response = admin_client.post(f"/admin/users/{user.id}", data={"role": "rep", "active": "1",
                                                                 "password": "a-new-long-secret"})
    assert response.status_code == 302
    assert db.session.get(User, user.id).check_password("a-new-long-secret")

    _assert_replays_refused(app, stolen)
    assert client.get("/library").status_code == 302  # the victim's own browser too
    assert client.post("/login", data={"email": user.email, "password": "a-new-long-secret"}).status_code == 302
    assert client.get("/library").status_code == 200


def test_password_change_from_the_command_line_revokes_sessions_too(app, client, runner, factories):
    user = factories.user("rep")
    stolen = _sign_in_remembered(client, user)
    result = runner.invoke(args=["create-user", user.email, "--role", "rep", "--password", "another-long-one"])
    assert result.exit_code == 0, result.output
    _assert_replays_refused(app, stolen)


def test_an_admin_changing_their_own_password_stays_signed_in_here_only(app, client, factories):
    admin = factories.user("admin")
    elsewhere = app.test_client()
    elsewhere.post("/login", data={"email": admin.email, "password": PASSWORD})
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    response = client.post(f"/admin/users/{admin.id}", data={"role": "admin", "active": "1",
                                                             "password": "fresh-admin-secret"})
    assert response.status_code == 302
    assert client.get("/admin/users").status_code == 200
    assert elsewhere.get("/admin/users").status_code == 302


def test_a_deactivated_user_is_signed_out_at_the_next_request(client, auth, factories):
    user = factories.user("rep")
    auth.login(user)
    assert client.get("/library").status_code == 200
    save_user(user.email, active=False)
    assert client.get("/library").status_code == 302


def test_cookies_hold_the_session_token_not_the_user_id(client, factories):
    user = factories.user("rep")
    first = user.session_token
    assert user.get_id() == first and str(user.id) != first
    save_user(user.email, name="Renamed")  # other changes keep sessions
    assert db.session.get(User, user.id).session_token == first
    save_user(user.email, password="yet-another-secret")
    assert db.session.get(User, user.id).session_token != first


def _set_cookie_headers(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


@pytest.mark.parametrize("secure", [True, False])
def test_cookie_flags(settings, secure):
    app = create_app(dataclasses.replace(settings, cookie_secure=secure), TESTING=True, WTF_CSRF_ENABLED=False,
                     AUTO_MIGRATE=False, START_EMBEDDED_WORKER=False)
    with app.app_context():
        user = save_user("flags@example.com", role="rep", password=PASSWORD)[0]
        client = app.test_client()
        response = client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "1"},
                               base_url="https://localhost")
        cookies = _set_cookie_headers(response)
        for name in (SESSION, REMEMBER):
            attributes = [part.strip().lower() for part in cookies[name].split(";")]
            assert "httponly" in attributes and "samesite=lax" in attributes, cookies[name]
            assert ("secure" in attributes) is secure, cookies[name]
        db.session.remove()
        db.engine.dispose()


def test_cookie_secure_setting(tmp_path):
    def load(**env):
        return load_settings({"PORTAL_DATA_DIR": str(tmp_path), **env})

    assert load().cookie_secure is False  # the embedded default, served over http on 127.0.0.1
    assert load(DATABASE_URL="postgresql://u@h/db").cookie_secure is True  # production
    assert load(DATABASE_URL="postgresql://u@h/db", SESSION_COOKIE_SECURE="off").cookie_secure is False
    assert load(SESSION_COOKIE_SECURE="1").cookie_secure is True
    with pytest.raises(ConfigError, match="SESSION_COOKIE_SECURE"):
        load(SESSION_COOKIE_SECURE="sometimes")


def test_migration_gives_every_existing_user_a_token_and_tokens_an_expiry(tmp_path):
    from portal.database import migrate

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0007")
    with engine.begin() as connection:
        for n in (1, 2):
            connection.execute(text(
                "INSERT INTO users (id, email, name, password_hash, role, active, created_at) "
                f"VALUES ({n}, 'u{n}@example.com', '', 'x', 'rep', 1, '2026-01-01')"))
        connection.execute(text("INSERT INTO api_tokens (user_id, token_hash, created_at) "
                                "VALUES (1, 'abc', '2026-01-01')"))
    migrate(engine, "head")
    with engine.connect() as connection:
        tokens = [row[0] for row in connection.execute(text("SELECT session_token FROM users"))]
        expiry = connection.execute(text("SELECT expires_at FROM api_tokens")).scalar_one()
    engine.dispose()
    assert len(set(tokens)) == 2 and all(len(t) >= 40 for t in tokens)
    assert expiry is not None
