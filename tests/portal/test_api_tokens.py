"""API tokens expire (API_TOKEN_DAYS), and using one writes last_used_at at most
once per LAST_USED_PRECISION instead of on every read."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from sqlalchemy import event, select

from portal.access import LAST_USED_PRECISION, issue_token, user_for_token
from portal.extensions import db
from portal.models import ApiToken, utcnow
from tests.conftest import PASSWORD


def _row(token_header: dict) -> ApiToken:
    db.session.expire_all()
    return db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc()).limit(1)).one()


def test_the_token_answer_says_when_it_expires(client, factories):
    user = factories.user("rep")
    before = utcnow().replace(microsecond=0)
    response = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 201
    expires_at = datetime.fromisoformat(response.get_json()["expires_at"].removesuffix("Z"))
    assert before + timedelta(days=90) <= expires_at <= utcnow() + timedelta(days=90)


def test_api_token_days_is_honoured(app, client, factories):
    app.config["SETTINGS"] = dataclasses.replace(app.config["SETTINGS"], api_token_days=7)
    user = factories.user("rep")
    token, row = issue_token(user, now=datetime(2026, 6, 1, 12, 0))
    assert row.expires_at == datetime(2026, 6, 8, 12, 0)


def test_an_expired_token_is_refused(client, auth, factories):
    user = factories.user("rep")
    headers = auth.token(user)
    assert client.get("/api/v1/assets", headers=headers).status_code == 200
    row = _row(headers)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get("/api/v1/assets", headers=headers)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


def test_last_used_is_written_at_most_once_per_precision(app, factories):
    user = factories.user("rep")
    start = datetime(2026, 6, 1, 9, 0)
    token, row = issue_token(user, now=start)
    updates = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            updates.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert user_for_token(token, now=start + timedelta(minutes=1)).id == user.id
        assert len(updates) == 1
        for minutes in (2, 3, 5):  # within LAST_USED_PRECISION of the last write
            assert user_for_token(token, now=start + timedelta(minutes=minutes)).id == user.id
        assert len(updates) == 1
        later = start + timedelta(minutes=1) + LAST_USED_PRECISION
        assert user_for_token(token, now=later).id == user.id
        assert len(updates) == 2
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    db.session.expire_all()
    assert db.session.get(ApiToken, row.id).last_used_at == later
    assert user_for_token(token, now=row.expires_at) is None  # and not a second past its expiry


def test_api_reads_do_not_each_write(client, auth, factories):
    headers = auth.token(factories.user("rep"))
    updates = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            updates.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for _ in range(5):
            assert client.get("/api/v1/assets", headers=headers).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(updates) == 1
