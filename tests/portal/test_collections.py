"""Keeping things in the browser's pages (forms that work without JavaScript),
recently viewed, the home page and its recommendations."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.collections import recently_viewed
from portal.collections.home import home_for
from portal.extensions import db
from portal.library.services import retire_assets
from portal.models import AssetCoUsage, Collection, PopularAsset, RecentView, UsageEvent, utcnow
from portal.queue import enqueue


def _pressed(html: str, asset_id: int) -> str:
    form = re.search(rf'action="/favorites/{asset_id}".*?aria-pressed="(\w+)"', html, re.S)
    return form.group(1)


def test_favourite_button_works_as_a_plain_form_and_in_place(client, auth, factories):
    asset = factories.asset(title="Pricing overview")
    auth.login(factories.user("rep"))
    page = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert _pressed(page, asset.id) == "false"
    response = client.post(f"/favorites/{asset.id}", data={"favorite": "1"},
                           headers={"Referer": f"http://localhost/assets/{asset.id}"})
    assert response.status_code == 302 and response.location.endswith(f"/assets/{asset.id}")
    page = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert _pressed(page, asset.id) == "true" and "Added to your favourites." in page
    # What collections.js sends: the same form, answered in JSON.
    answer = client.post(f"/favorites/{asset.id}", data={"favorite": "0"}, headers={"Accept": "application/json"})
    assert answer.get_json() == {"asset_id": asset.id, "favorite": False}
    assert "No favourites yet" in client.get("/favorites").get_data(as_text=True)
    assert client.post("/favorites/999999", data={"favorite": "1"}).status_code == 404
    # A referrer from another site is not followed.
    away = client.post(f"/favorites/{asset.id}", data={"favorite": "1"}, headers={"Referer": "https://evil.example/"})
    assert away.location == "/favorites"


def test_search_results_and_tiles_carry_the_keep_buttons(client, auth, factories):
    asset = factories.asset(title="Healthcare pricing")
    auth.login(factories.user("rep"))
    results = client.get("/search?q=healthcare").get_data(as_text=True)
    assert f'action="/favorites/{asset.id}"' in results and 'data-testid="add-to-collection"' in results
    assert f'action="/favorites/{asset.id}"' in client.get("/library").get_data(as_text=True)


def test_add_to_collection_reorder_rename_remove_delete(client, auth, factories):
    a, b = factories.asset(title="Alpha"), factories.asset(title="Beta")
    rep = factories.user("rep")
    auth.login(rep)
    client.post("/collections/items", data={"asset_id": a.id, "collection_id": "new", "new_title": "Acme deal"})
    collection = db.session.scalars(select(Collection).where(Collection.owner_id == rep.id)).one()
    assert client.post("/collections/items", data={"asset_id": b.id, "collection_id": collection.id}).status_code == 302
    again = client.post("/collections/items", data={"asset_id": b.id, "collection_id": collection.id},
                        follow_redirects=True)
    assert "Already in “Acme deal”." in again.get_data(as_text=True)

    def order():
        db.session.expire_all()
        return [item.asset.title for item in db.session.get(Collection, collection.id).items]

    assert order() == ["Alpha", "Beta"]
    client.post(f"/collections/{collection.id}/items/{b.id}/move", data={"direction": "up"})
    assert order() == ["Beta", "Alpha"]
    client.post(f"/collections/{collection.id}/items/{b.id}/move", data={"direction": "up"})  # already first
    assert order() == ["Beta", "Alpha"]
    client.post(f"/collections/{collection.id}", data={"title": "Acme renewal", "description": "Thursday"})
    page = client.get(f"/collections/{collection.id}").get_data(as_text=True)
    assert "Acme renewal" in page and "Only you see it" in page and 'data-testid="sharing"' not in page
    client.post(f"/collections/{collection.id}/items/{b.id}/remove")
    assert order() == ["Alpha"]
    assert client.post(f"/collections/{collection.id}/items/{b.id}/remove").status_code == 404
    assert client.post("/collections/items", data={"asset_id": "x", "collection_id": "new"}).status_code == 422
    assert client.post("/collections/items", data={"asset_id": a.id, "collection_id": "new",
                                                   "new_title": ""}).status_code == 422
    client.post(f"/collections/{collection.id}/delete")
    assert db.session.get(Collection, collection.id) is None


def test_reps_cannot_share_or_change_a_kit_they_receive(client, auth, factories):
    marketer = factories.user("marketer")
    rep = factories.user("rep", team="Mid-market")
    auth.login(marketer)
    page = client.get("/collections").get_data(as_text=True)
    assert 'data-testid="sharing"' in page
    client.post("/collections", data={"title": "Healthcare discovery kit", "team": ["Mid-market"]})
    kit = db.session.scalars(select(Collection)).one()
    auth.logout()
    auth.login(rep)
    assert 'data-testid="sharing"' not in client.get("/collections").get_data(as_text=True)
    assert client.post("/collections", data={"title": "Mine", "everyone": "1"}).status_code == 403
    shown = client.get(f"/collections/{kit.id}").get_data(as_text=True)
    assert "Curated by" in shown and "Rename" not in shown
    asset = factories.asset(marketer)
    assert client.post("/collections/items", data={"asset_id": asset.id, "collection_id": kit.id}).status_code == 403
    assert client.post(f"/collections/{kit.id}", data={"title": "Mine"}).status_code == 403


def test_retired_items_show_as_retired_with_the_newer_item(client, auth, factories):
    marketer = factories.user("marketer")
    old = factories.asset(marketer, title="Price sheet EMEA")
    rep = factories.user("rep")
    auth.login(rep)
    client.post("/collections/items", data={"asset_id": old.id, "collection_id": "new", "new_title": "Deal"})
    newer = factories.asset(marketer, title="Price sheet EMEA")
    retire_assets([old], marketer, "new prices")
    collection = db.session.scalars(select(Collection)).one()
    page = client.get(f"/collections/{collection.id}").get_data(as_text=True)
    item = re.search(r'<li class="card collection-item unavailable".*?</li>', page, re.S).group(0)
    assert "Retired" in item and f'href="/assets/{newer.id}"' in item
    assert f'href="/assets/{old.id}"' not in item  # no link that would only say "not found"


def test_asset_pages_record_recent_views_newest_first_and_bounded(client, auth, factories, monkeypatch):
    monkeypatch.setattr(recently_viewed, "KEEP", 3)
    assets = [factories.asset(title=f"Item {n}") for n in range(5)]
    rep = factories.user("rep")
    auth.login(rep)
    for asset in [*assets, assets[1]]:
        client.get(f"/assets/{asset.id}")
    assert recently_viewed.recently_viewed_ids(rep) == [assets[1].id, assets[4].id, assets[3].id]
    assert db.session.scalar(select(db.func.count()).select_from(RecentView)) == 3
    home = client.get("/api/v1/home", headers=auth.token(rep)).get_json()
    assert [a["title"] for a in home["recently_viewed"]] == ["Item 1", "Item 4", "Item 3"]


def test_new_and_updated_follows_region_and_products(app, factories):
    marketer = factories.user("marketer")
    rep = factories.user("rep", region="EMEA")
    seen = factories.asset(marketer, title="Seen", product="Care", region="EMEA")
    factories.asset(marketer, title="Care in EMEA", product="Care", region="EMEA")
    factories.asset(marketer, title="Care everywhere", product="Care", region="Global")
    factories.asset(marketer, title="Care in NA", product="Care", region="North America")
    factories.asset(marketer, title="Other product in EMEA", product="Northwind", region="EMEA")
    stale = factories.asset(marketer, title="Old news", product="Care", region="EMEA")
    stale.updated_at = utcnow() - timedelta(days=45)
    db.session.commit()
    titles = {a.title for a in home_for(rep).new_and_updated}
    assert titles == {"Seen", "Care in EMEA", "Care everywhere", "Other product in EMEA"}  # no products known yet
    recently_viewed.record_view(rep, seen)
    assert {a.title for a in home_for(rep).new_and_updated} == {"Seen", "Care in EMEA", "Care everywhere"}


def _use(user, asset, kind="view", days_ago=1):
    db.session.add(UsageEvent(asset_id=asset.id, user_id=user.id, kind=kind,
                              occurred_at=utcnow() - timedelta(days=days_ago)))


def test_recommendations_say_why(client, auth, factories):
    marketer = factories.user("marketer")
    me = factories.user("rep", team="Mid-market", region="EMEA")
    team = [factories.user("rep", team="Mid-market", region="EMEA") for _ in range(3)]
    stranger = factories.user("rep", team="Enterprise", region="North America")
    pricing, roi, battlecard, datasheet, retired, old = (
        factories.asset(marketer, title=t) for t in ("Pricing", "ROI calculator", "Battlecard", "Datasheet",
                                                     "Retired deck", "Last quarter"))
    for rep in team:
        _use(rep, pricing)
        _use(rep, roi, "download")
        _use(rep, retired)
    _use(team[0], battlecard, "search_click")  # a click-through is the view that follows, not a use of its own
    _use(team[0], old, days_ago=40)  # outside the month
    for _ in range(5):
        _use(stranger, datasheet)
    _use(marketer, datasheet)  # staff are not reps
    db.session.commit()
    retire_assets([retired], marketer, "gone")

    enqueue("refresh_recommendations")  # the hourly job (run at once by the tests' queue)
    popular = {(p.scope, p.value, p.asset_id): p.users for p in db.session.scalars(select(PopularAsset))}
    assert popular[("team", "Mid-market", pricing.id)] == 3 and popular[("region", "EMEA", roi.id)] == 3
    assert ("team", "Mid-market", battlecard.id) not in popular and ("team", "Mid-market", old.id) not in popular
    assert popular[("team", "Enterprise", datasheet.id)] == 1
    pairs = {(p.asset_id, p.other_asset_id): p.users for p in db.session.scalars(select(AssetCoUsage))}
    assert pairs[(pricing.id, roi.id)] == 3 and pairs[(roi.id, pricing.id)] == 3
    assert not any(battlecard.id in pair or datasheet.id in pair for pair in pairs)  # one rep is not "reps"

    headers = auth.token(me)
    home = client.get("/api/v1/home", headers=headers).get_json()
    reasons = {r["asset"]["title"]: r["reason"] for r in home["recommended"]}
    # Taken in turn from the team's list, then the region's (ties: the lower id first).
    assert reasons == {"Pricing": "Used by 3 reps in your team this month",
                       "ROI calculator": "Used by 3 reps in your region (EMEA) this month"}

    auth.login(me)
    client.get(f"/assets/{pricing.id}")
    home = client.get("/api/v1/home", headers=headers).get_json()
    reasons = {r["asset"]["title"]: r["reason"] for r in home["recommended"]}
    assert "Pricing" not in reasons  # what I already opened is not recommended to me
    assert reasons["ROI calculator"] == "Reps who used “Pricing” also used “ROI calculator” (3 reps this month)"
    page = client.get("/home").get_data(as_text=True)
    assert "Reps who used “Pricing” also used “ROI calculator” (3 reps this month)" in page
    assert "Retired deck" not in page and "Datasheet" not in reasons


@pytest.mark.parametrize("role, expected", [
    ("rep", "Star ☆ what you use often"),
    ("marketer", "Upload your first item"),
    ("enablement", "work the queue of low ratings"),
    ("admin", "Give people their team and region"),
])
def test_each_role_gets_a_first_step(client, auth, factories, role, expected):
    auth.login(factories.user(role))
    page = client.get("/home").get_data(as_text=True)
    assert 'data-testid="first-steps"' in page and expected in page


def test_signing_in_lands_on_the_home_page_and_the_library_stays(client, factories):
    rep = factories.user("rep")
    response = client.post("/login", data={"email": rep.email, "password": "correct-horse-battery"})
    assert client.get(response.location).location == "/home"
    assert client.get("/library").status_code == 200
    assert 'href="/library"' in client.get("/home").get_data(as_text=True)


def test_migration_0012_starts_recently_viewed_from_recorded_views(tmp_path):
    """Existing data migrates: each user's latest viewed assets (at most 20) fill recent_views."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from portal.database import alembic_config

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")

    def upgrade(to: str) -> None:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, to)

    upgrade("0010")
    with engine.begin() as connection:
        for n, token in ((1, "a"), (2, "b")):
            connection.execute(text(
                "INSERT INTO users (id, email, name, password_hash, role, active, created_at, session_token) "
                "VALUES (:n, :email, '', 'x', 'rep', 1, '2026-01-01', :token)"), {"n": n, "email": f"u{n}@x", "token": token})
        for n in range(1, 26):
            connection.execute(text(
                "INSERT INTO assets (id, title, description, content_type, status, owner_id, created_at, updated_at) "
                "VALUES (:n, :title, '', 'other', 'published', 1, '2026-01-01', '2026-01-01')"),
                {"n": n, "title": f"Asset {n}"})
        events = [(1, n, "view", f"2026-02-{n:02d} 10:00:00") for n in range(1, 26)]
        events += [(1, 3, "view", "2026-03-01 10:00:00"), (2, 5, "download", "2026-03-01 10:00:00"),
                   (2, 7, "view", "2026-03-02 10:00:00")]
        for user_id, asset_id, kind, at in events:
            connection.execute(text("INSERT INTO usage_events (asset_id, user_id, kind, occurred_at) "
                                    "VALUES (:a, :u, :k, :t)"), {"a": asset_id, "u": user_id, "k": kind, "t": at})
    upgrade("0012")
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT user_id, asset_id FROM recent_views ORDER BY user_id, viewed_at DESC")).all()
    engine.dispose()
    mine = [asset_id for user_id, asset_id in rows if user_id == 1]
    assert mine == [3, *range(25, 6, -1)]  # 20 kept: the newest first; asset 3 viewed again last
    assert [asset_id for user_id, asset_id in rows if user_id == 2] == [7]  # views only
