"""Every route declares its roles, and every role gets what the declaration says."""

from __future__ import annotations

import re

import pytest

from portal.access import PUBLIC
from portal.models import ROLES

ANONYMOUS = "anonymous"


@pytest.fixture
def sample_ids(app, factories):
    """Real rows for every id a route may take, so allowed roles get past lookups."""
    from datetime import date

    from portal.extensions import db
    from portal.models import (
        ApiToken,
        Collection,
        CollectionItem,
        Deck,
        DeckSlide,
        Flag,
        Notification,
        Page,
        Rating,
        ReportedUse,
    )

    admin = factories.user("admin")
    rep = factories.user("rep")
    asset = factories.asset(title="Matrix asset")
    page = Page(version_id=asset.current_version_id, asset_id=asset.id, number=1, title="Slide one")
    db.session.add(page)
    db.session.flush()
    rows = {
        "token_id": ApiToken(user_id=admin.id, token_hash="0" * 64),
        "rating_id": Rating(asset_id=asset.id, user_id=rep.id, stars=2, comment="meh"),
        "flag_id": Flag(asset_id=asset.id, user_id=rep.id, reason_kind="outdated", reason="old prices"),
        "use_id": ReportedUse(asset_id=asset.id, user_id=rep.id, kind="presented", occurred_on=date.today()),
        "deck_id": Deck(owner_id=rep.id, title="Matrix deck", slides=[DeckSlide(position=1, page_id=page.id)]),
        "notification_id": Notification(user_id=rep.id, message="hello"),
        # A rep's own collection: others get 404 (admins may open it), never a 403 for an allowed role.
        "collection_id": Collection(owner_id=rep.id, title="Matrix collection",
                                    items=[CollectionItem(asset_id=asset.id, position=1)]),
    }
    db.session.add_all(rows.values())
    db.session.commit()
    ids = {"asset_id": asset.id, "page_id": page.id, "user_id": admin.id}
    ids.update({name: row.id for name, row in rows.items()})
    # Sharing: a link of the rep's (the walk's own users own none of it; buyers' /s/<token> routes are public).
    from portal.sharing import links

    link, _ = links.create_link(rep, links.parse_options({"asset_id": asset.id}, default_days=30))
    ids["link_id"] = link.id
    return ids


def _routes(app):
    # Signing out goes last, so the rest of the walk keeps its session.
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "auth.logout"):
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_declares_roles(app):
    undeclared = [
        rule.rule for rule, _ in _routes(app)
        if not getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
    ]
    assert undeclared == []


def _url(rule, ids) -> str:
    def fill(match: re.Match) -> str:
        return str(ids.get(match.group(1), 1))

    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", fill, rule.rule)


@pytest.mark.parametrize("role", [ANONYMOUS, *ROLES])
def test_role_matrix(app, factories, sample_ids, role):
    """Each role x each route -> allowed (no 401/403, never 500) or refused (401/403 or sign-in redirect)."""
    client = app.test_client()
    headers = {}
    if role != ANONYMOUS:
        user = factories.user(role)
        client.post("/login", data={"email": user.email, "password": "correct-horse-battery"})
        token = client.post("/api/v1/tokens", json={"email": user.email, "password": "correct-horse-battery"})
        headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    failures = []
    for rule, method in _routes(app):
        allowed = app.view_functions[rule.endpoint].allowed_roles
        is_api = rule.rule.startswith("/api/")
        url = _url(rule, sample_ids)
        kwargs = {"headers": headers if is_api else {}}
        if method in ("POST", "PUT", "PATCH") and is_api:
            kwargs["json"] = {}
        response = client.open(url, method=method, **kwargs)
        status = response.status_code
        if allowed == (PUBLIC,) or (role != ANONYMOUS and role in allowed):
            ok = status not in (401, 403) and status < 500
            expected = "allowed"
        elif role == ANONYMOUS:
            ok = status == 401 if is_api else (status == 302 and "/login" in response.location)
            expected = "sign-in required"
        else:
            ok = status == 403
            expected = "403"
        if not ok:
            failures.append(f"{role} {method} {url}: {status}, expected {expected}")
    assert failures == []
