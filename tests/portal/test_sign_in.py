"""Sign-in is throttled per account and per client address (429 with a growing
wait, shared by every worker through the database), unknown accounts cost the
same password-hash work as known ones, and every failure is logged."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.auth import signin
from portal.extensions import db
from portal.models import LoginAttempt
from tests.conftest import PASSWORD

WRONG = "not-the-password"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 9, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(signin, "clock", fake)
    return fake


def _settings(app, **changes) -> None:
    app.config["SETTINGS"] = dataclasses.replace(app.config["SETTINGS"], **changes)


def web(client, email, password, address="192.0.2.10"):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def api(client, email, password, address="192.0.2.10"):
    return client.post("/api/v1/tokens", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_web_sign_in_refuses_the_right_password_after_too_many_failures(client, factories, clock):
    user = factories.user("rep")
    for _ in range(5):  # LOGIN_FAILURES_PER_ACCOUNT's default
        response = web(client, user.email, WRONG)
        assert response.status_code == 200 and b"Wrong email or password" in response.data
        clock.advance(seconds=1)

    refused = web(client, user.email, PASSWORD)
    assert refused.status_code == 429
    assert b"Too many failed sign-ins" in refused.data and b"Try again in 59 seconds" in refused.data
    assert refused.headers["Retry-After"] == "59"  # a minute after the latest failure
    clock.advance(seconds=30)
    assert web(client, user.email, PASSWORD).status_code == 429  # from any address: it is the account's limit
    assert web(client, user.email, PASSWORD, address="198.51.100.7").status_code == 429

    clock.advance(seconds=31)
    assert web(client, user.email, PASSWORD).status_code == 302  # the wait is over
    assert client.get("/library").status_code == 200


def test_each_further_failure_doubles_the_wait_up_to_the_window(client, factories, clock):
    user = factories.user("rep")
    for _ in range(5):
        api(client, user.email, WRONG)
    waits = []
    for _ in range(5):
        refused = api(client, user.email, PASSWORD)
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        clock.advance(seconds=waits[-1] - 1)
        assert api(client, user.email, PASSWORD).status_code == 429  # not a second early
        clock.advance(seconds=1)
        assert api(client, user.email, WRONG).status_code == 401  # tried again once allowed, wrong again
    assert waits == [60, 120, 240, 480, 900]  # LOGIN_WINDOW_MINUTES (15) caps it

    clock.advance(minutes=15, seconds=1)  # the whole window passed without a failure
    assert api(client, user.email, PASSWORD).status_code == 201


def test_api_answers_429_with_the_json_error_shape(client, factories, clock):
    user = factories.user("rep")
    for _ in range(5):
        response = api(client, user.email, WRONG)
        assert response.status_code == 401
    refused = api(client, user.email, PASSWORD)
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["code"] == "too_many_requests" and "Too many failed sign-ins" in error["message"]
    assert refused.headers["Retry-After"] == "60"
    clock.advance(minutes=1)
    assert api(client, user.email, PASSWORD).status_code == 201


def test_the_web_form_and_the_api_share_one_count(client, factories, clock):
    user = factories.user("rep")
    for _ in range(3):
        web(client, user.email, WRONG)
    for _ in range(2):
        api(client, user.email, WRONG)
    assert web(client, user.email, PASSWORD).status_code == 429
    assert api(client, user.email, PASSWORD).status_code == 429


def test_one_address_trying_many_accounts_is_throttled(app, client, factories, clock):
    _settings(app, login_failures_per_address=10)
    user = factories.user("rep")
    for n in range(10):
        assert api(client, f"guess{n}@example.com", WRONG).status_code == 401
    assert api(client, user.email, PASSWORD).status_code == 429
    assert web(client, user.email, PASSWORD).status_code == 429
    # Another address is not held back by this one, and the account itself never failed.
    assert api(client, user.email, PASSWORD, address="198.51.100.7").status_code == 201


def test_unknown_emails_are_counted_like_known_ones(client, clock):
    for _ in range(5):
        assert api(client, "nobody@example.com", WRONG).status_code == 401
    assert api(client, "Nobody@Example.com ", WRONG).status_code == 429  # the limit does not reveal accounts


def test_a_success_clears_the_account_count(client, factories, clock):
    user = factories.user("rep")
    for _ in range(4):
        api(client, user.email, WRONG)
    assert api(client, user.email, PASSWORD).status_code == 201
    for _ in range(4):
        api(client, user.email, WRONG)
    assert api(client, user.email, PASSWORD).status_code == 201


def test_failures_older_than_two_windows_are_deleted(client, factories, clock):
    user = factories.user("rep")
    for _ in range(3):
        api(client, user.email, WRONG)
    clock.advance(minutes=20)
    api(client, "someone@example.com", WRONG)
    assert len(db.session.execute(select(LoginAttempt.email)).scalars().all()) == 4  # still within two windows
    clock.advance(minutes=11)
    api(client, "someone@example.com", WRONG)
    rows = db.session.execute(select(LoginAttempt.email)).scalars().all()
    assert rows == ["someone@example.com"] * 2


def test_unknown_and_deactivated_accounts_run_the_same_hash_work(client, factories, monkeypatch, clock):
    calls = []
    real = signin.check_password_hash

    def spy(pwhash, password):
        calls.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(signin, "check_password_hash", spy)
    user = factories.user("rep")
    method = user.password_hash.split("$", 1)[0]  # e.g. scrypt:32768:8:1

    assert api(client, "nobody@example.com", WRONG).status_code == 401
    assert web(client, "nobody@example.com", WRONG).status_code == 200
    assert len(calls) == 2 and calls[0] == calls[1] != user.password_hash
    assert calls[0].split("$", 1)[0] == method  # the same method and cost as real hashes

    calls.clear()
    user.active = False
    db.session.commit()
    assert api(client, user.email, PASSWORD).status_code == 401
    assert calls == [user.password_hash]  # checked, even though the answer is no anyway


def test_failures_and_refusals_are_logged(client, factories, clock, caplog):
    user = factories.user("rep")
    with caplog.at_level(logging.WARNING, logger="portal.auth"):
        api(client, "nobody@example.com", WRONG)
        web(client, user.email, WRONG, address="198.51.100.7")
        for _ in range(4):
            api(client, user.email, WRONG)
        api(client, user.email, PASSWORD)
    messages = [r.getMessage() for r in caplog.records if r.name == "portal.auth"]
    assert "sign-in failed (unknown account) for 'nobody@example.com' from 192.0.2.10" in messages
    assert f"sign-in failed (wrong password) for '{user.email}' from 198.51.100.7" in messages
    assert any(m.startswith(f"sign-in refused for '{user.email}' from 192.0.2.10: throttled") for m in messages)


def test_the_client_address_comes_from_trusted_proxies_only(settings, clock):
    from portal import create_app

    def app_with(proxies: int):
        return create_app(dataclasses.replace(settings, trusted_proxies=proxies), TESTING=True,
                          WTF_CSRF_ENABLED=False, AUTO_MIGRATE=False, START_EMBEDDED_WORKER=False)

    for proxies, expected in ((0, "127.0.0.1"), (1, "203.0.113.9")):
        app = app_with(proxies)
        with app.app_context():
            app.test_client().post("/api/v1/tokens", json={"email": "x@example.com", "password": WRONG},
                                   headers={"X-Forwarded-For": "203.0.113.9"})
            address = db.session.scalar(select(LoginAttempt.address).order_by(LoginAttempt.id.desc()).limit(1))
            assert address == expected
            assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) >= 1
            db.session.remove()
            db.engine.dispose()
