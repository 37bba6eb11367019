from __future__ import annotations

from portal.extensions import db
from portal.models import User


def test_sign_in_and_out(client, auth, factories):
    user = factories.user("rep")
    assert client.get("/library").status_code == 302
    response = auth.login(user)
    assert response.status_code == 302
    assert client.get("/library").status_code == 200
    auth.logout()
    assert client.get("/library").status_code == 302


def test_wrong_password_and_deactivated(client, auth, factories):
    user = factories.user("rep")
    response = auth.login(user, password="wrong")
    assert response.status_code == 200 and b"Wrong email or password" in response.data
    user.active = False
    db.session.commit()
    assert b"deactivated" in auth.login(user).data
    assert client.get("/library").status_code == 302


def test_remember_me_sets_cookie(client, factories):
    user = factories.user("rep")
    response = client.post("/login", data={"email": user.email, "password": "correct-horse-battery", "remember": "1"})
    assert "remember_token" in response.headers.get("Set-Cookie", "") or any(
        "remember_token" in h for h in response.headers.getlist("Set-Cookie"))


def test_next_redirect_stays_on_site(client, factories):
    user = factories.user("rep")
    response = client.post("/login?next=https://evil.example/", data={"email": user.email, "password": "correct-horse-battery"})
    assert response.location.startswith("/") and "evil" not in response.location


def test_passwords_are_hashed(factories):
    user = factories.user("rep")
    stored = db.session.get(User, user.id).password_hash
    assert "correct-horse-battery" not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


def test_stale_csrf_token_is_refused_clearly(app, factories):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    user = factories.user("rep")
    response = client.post("/login", data={"email": user.email, "password": "correct-horse-battery", "csrf_token": "stale"})
    assert response.status_code == 400
    assert b"This form has expired" in response.data


def test_admin_manages_users(client, auth, factories):
    admin = factories.user("admin")
    auth.login(admin)
    response = client.post("/admin/users", data={"email": "new@example.com", "role": "marketer", "password": "long-enough",
                                                 "team": "Mid-market", "region": "EMEA"})
    assert response.status_code == 302
    user = db.session.scalar(db.select(User).where(User.email == "new@example.com"))
    assert (user.role, user.team, user.region) == ("marketer", "Mid-market", "EMEA")
    client.post(f"/admin/users/{user.id}", data={"role": "enablement", "team": "Ent", "region": "NA", "name": "N", "active": "0"})
    db.session.refresh(user)
    assert (user.role, user.team, user.active) == ("enablement", "Ent", False)
    bad = client.post("/admin/users", data={"email": "not-an-email", "role": "rep", "password": "x"})
    assert bad.status_code == 422 and b"valid email" in bad.data
    # An admin cannot lock themselves out.
    client.post(f"/admin/users/{admin.id}", data={"role": "rep", "active": "1"})
    assert db.session.get(User, admin.id).role == "admin"


def test_create_user_command(runner):
    result = runner.invoke(args=["create-user", "cli@example.com", "--role", "marketer", "--password", "long-enough",
                                 "--team", "EMEA team", "--region", "EMEA"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(User).where(User.email == "cli@example.com"))
    assert user.role == "marketer" and user.check_password("long-enough")
    again = runner.invoke(args=["create-user", "cli@example.com", "--role", "admin", "--password", "another-one"])
    assert again.exit_code == 0 and "Updated" in again.output
    short = runner.invoke(args=["create-user", "x@example.com", "--role", "rep", "--password", "short"])
    assert short.exit_code != 0 and "password" in short.output
