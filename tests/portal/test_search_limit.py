"""No one user can starve the others with searches: a per-user limit answers 429."""

from __future__ import annotations

from dataclasses import replace

import pytest

from portal import create_app
from portal.extensions import db


@pytest.fixture
def app(settings):
    app = create_app(replace(settings, searches_per_minute=3), TESTING=True, WTF_CSRF_ENABLED=False,
                     AUTO_MIGRATE=False, START_EMBEDDED_WORKER=False)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_searches_past_the_per_user_limit_answer_429_until_the_window_passes(app, client, factories, auth):
    now = [1000.0]
    app.extensions["collateral_search_limit"].clock = lambda: now[0]
    factories.asset(title="Pricing guide")
    greedy, other = auth.token(factories.user("rep")), auth.token(factories.user("rep"))
    for path in ("/api/v1/search?q=pricing", "/api/v1/search/pages?q=pricing", "/api/v1/search?q=guide"):
        assert client.get(path, headers=greedy).status_code == 200
    refused = client.get("/api/v1/search?q=pricing", headers=greedy)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) == 60
    assert client.get("/api/v1/search?q=pricing", headers=other).status_code == 200  # others unaffected
    now[0] += 61
    assert client.get("/api/v1/search?q=pricing", headers=greedy).status_code == 200


def test_the_search_page_says_so_too(app, client, factories, auth):
    rep = factories.user("rep")
    auth.login(rep)
    for _ in range(3):
        assert client.get("/search?q=pricing").status_code == 200
    page = client.get("/search?q=pricing")
    assert page.status_code == 429 and "Too many searches" in page.get_data(as_text=True)


def test_the_limiter_remembers_a_bounded_number_of_users():
    from portal.ratelimit import MAX_TRACKED_KEYS, RateLimit

    limit = RateLimit("searches", 1, per_seconds=60, clock=lambda: 0.0)
    for user_id in range(MAX_TRACKED_KEYS + 500):
        limit.check(user_id)
    assert len(limit._hits) == MAX_TRACKED_KEYS
