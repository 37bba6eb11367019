"""The home page at scale: 10,000 assets, 217 users, 300,000 uses over 60 days.

Rows are inserted straight into the database with SQL (building 10,000 real assets
through uploads and processing would take hours on this shared machine): users in 10
teams and 5 regions, 10,000 assets with one processed version each (some retired,
some expired, most updated over the past year), usage events with Zipf-like
popularity over assets and reps, favourites, personal collections, kits shared with
teams, regions and everyone, and each rep's recently viewed items. Then the rollups
and the recommendation tables are built (timed), and the home page is timed:

- through HTTP: a real threaded server on loopback (werkzeug), reps signed in with a
  session cookie (GET /home, the HTML page) or a bearer token (GET /api/v1/home);
- in process, side by side: the portal's `home_for` (small derived tables, indexes)
  and a naive version of the same page that answers every part from raw usage events
  (recently viewed, team popularity and "reps who used X also used Y" per request).

    .venv/bin/python bench/bench_home.py                      # SQLite and PostgreSQL
    .venv/bin/python bench/bench_home.py --db sqlite --rounds 5

Target (issue 16): the home page under 150 ms p95 on the server through HTTP.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_analytics import reset_schema  # noqa: E402  (the same schema reset: migrations from nothing)

ASSETS, EVENTS, DAYS = 10_000, 300_000, 60
TEAMS = [f"{side} {n}" for side in ("Enterprise", "Mid-market") for n in range(1, 6)]
REGIONS = ["North America", "EMEA", "APAC", "LATAM", "Japan"]
PRODUCTS = [f"Product {n}" for n in range(1, 13)]
REPS, MARKETERS, ENABLEMENT, ADMINS = 200, 10, 5, 2
PASSWORD = "bench-password"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_home"  # createdb -h 127.0.0.1 -U postgres bench_home
TARGET_MS = 150


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    load = os.getloadavg()
    return f"{cpu}, {os.cpu_count()} cores, load {load[0]:.1f}/{load[1]:.1f}, Python {platform.python_version()}"


def zipf_choice(rng: random.Random, items: list, s: float):
    weights = list(itertools.accumulate(1 / rank ** s for rank in range(1, len(items) + 1)))
    return lambda: rng.choices(items, cum_weights=weights)[0]


def build_app(kind: str, data_dir: str, pg_url: str):
    from portal import create_app
    from portal.config import load_settings

    # Plain http on loopback: the session cookie must not be marked Secure.
    env = {"PORTAL_DATA_DIR": data_dir, "PORTAL_QUEUE": "immediate", "SESSION_COOKIE_SECURE": "0"}
    if kind == "postgresql":
        env["DATABASE_URL"] = pg_url
    return create_app(load_settings(env), START_EMBEDDED_WORKER=False, AUTO_MIGRATE=False, WTF_CSRF_ENABLED=False)


def generate(app, seed: int = 16) -> dict[str, int]:
    """Insert the data set with SQL; returns row counts."""
    from sqlalchemy import insert, text
    from werkzeug.security import generate_password_hash

    from portal.extensions import db
    from portal.models import (
        Asset,
        AssetVersion,
        Collection,
        CollectionItem,
        CollectionShare,
        Favorite,
        RecentView,
        UsageEvent,
        User,
        utcnow,
    )

    rng = random.Random(seed)
    now = utcnow()
    password_hash = generate_password_hash(PASSWORD)
    with app.app_context():
        users = []
        for n in range(REPS):
            users.append({"id": n + 1, "email": f"rep{n}@bench.example", "name": f"Rep {n}", "role": "rep",
                          "team": TEAMS[n % len(TEAMS)], "region": REGIONS[n % len(REGIONS)]})
        for role, count in (("marketer", MARKETERS), ("enablement", ENABLEMENT), ("admin", ADMINS)):
            for n in range(count):
                users.append({"id": len(users) + 1, "email": f"{role}{n}@bench.example", "name": f"{role} {n}",
                              "role": role, "team": "Marketing", "region": "Global"})
        for user in users:
            user.update(password_hash=password_hash, active=True, created_at=now,
                        session_token=f"bench-{user['id']}")
        db.session.execute(insert(User), users)

        marketers = [u["id"] for u in users if u["role"] == "marketer"]
        assets, versions = [], []
        for n in range(1, ASSETS + 1):
            updated = now - timedelta(days=rng.random() ** 1.5 * 365)
            assets.append({
                "id": n, "title": f"Asset {n}: {rng.choice(['Pricing', 'ROI', 'Security', 'Case study'])}",
                "description": "", "content_type": rng.choice(["deck", "datasheet", "case_study", "battlecard"]),
                "product": rng.choice(PRODUCTS), "region": rng.choice([*REGIONS, "Global", None]),
                "status": "retired" if rng.random() < 0.05 else "published",
                "expires_on": (now - timedelta(days=3)).date() if rng.random() < 0.02 else None,
                "owner_id": rng.choice(marketers), "created_at": updated - timedelta(days=30), "updated_at": updated,
            })
            versions.append({"id": n, "asset_id": n, "number": 1, "filename": f"asset-{n}.pdf",
                             "storage_key": f"assets/bench/{n}.pdf", "size": 100_000, "sha256": f"{n:064x}",
                             "mime": "application/pdf", "kind": "pdf", "processing": "ready", "page_count": 20,
                             "progress_done": 0, "progress_total": 0, "processing_attempts": 0,
                             "created_at": updated})
        db.session.execute(insert(Asset), assets)
        db.session.execute(insert(AssetVersion), versions)
        db.session.execute(text("UPDATE assets SET current_version_id = id"))
        db.session.commit()

        reps = [u["id"] for u in users if u["role"] == "rep"]
        pick_asset = zipf_choice(rng, rng.sample(range(1, ASSETS + 1), ASSETS), 1.0)
        pick_rep = zipf_choice(rng, reps, 0.7)
        kinds = ["view"] * 75 + ["download"] * 20 + ["deck_inclusion"] * 5
        batch = []
        last_view: dict[tuple[int, int], object] = {}
        for _ in range(EVENTS):
            at = now - timedelta(seconds=rng.random() * DAYS * 86_400)
            row = {"asset_id": pick_asset(), "user_id": pick_rep(), "kind": rng.choice(kinds), "occurred_at": at}
            batch.append(row)
            if row["kind"] == "view":
                key = (row["user_id"], row["asset_id"])
                last_view[key] = max(last_view.get(key, at), at)
            if len(batch) == 20_000:
                db.session.execute(insert(UsageEvent), batch)
                batch = []
        if batch:
            db.session.execute(insert(UsageEvent), batch)
        recent = []
        for user_id, views in itertools.groupby(sorted(last_view.items()), key=lambda item: item[0][0]):
            newest = sorted(views, key=lambda item: item[1], reverse=True)[:20]
            recent += [{"user_id": user_id, "asset_id": asset_id, "viewed_at": at} for (_, asset_id), at in newest]
        db.session.execute(insert(RecentView), recent)

        favourites = [{"user_id": rep, "asset_id": asset_id, "created_at": now - timedelta(days=rng.random() * 60)}
                      for rep in reps for asset_id in {pick_asset() for _ in range(rng.randint(0, 40))}]
        db.session.execute(insert(Favorite), favourites)
        collections, items, shares = [], [], []
        owners = [(rep, None) for rep in reps for _ in range(3)] + [(rng.choice(marketers), "kit") for _ in range(40)]
        for n, (owner, kind) in enumerate(owners, start=1):
            collections.append({"id": n, "owner_id": owner, "title": f"Collection {n}", "description": "",
                                "shared_with_everyone": kind == "kit" and n % 10 == 0, "created_at": now,
                                "updated_at": now - timedelta(days=rng.random() * 60)})
            chosen = list(dict.fromkeys(pick_asset() for _ in range(25 if kind else 15)))
            items += [{"collection_id": n, "asset_id": a, "position": p, "added_at": now}
                      for p, a in enumerate(chosen, start=1)]
            if kind and n % 10:
                shares.append({"collection_id": n, "scope": "team" if n % 2 else "region",
                               "value": rng.choice(TEAMS) if n % 2 else rng.choice(REGIONS)})
        db.session.execute(insert(Collection), collections)
        db.session.execute(insert(CollectionItem), items)
        db.session.execute(insert(CollectionShare), shares)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            for table in ("collections", "assets", "asset_versions", "users"):
                db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT max(id) FROM {table}))"))
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE"))
        return {"users": len(users), "assets": ASSETS, "events": EVENTS, "favorites": len(favourites),
                "collections": len(collections), "collection_items": len(items), "recent_views": len(recent)}


def naive_home(user) -> dict:
    """The same page answered from raw usage events on every request: what the derived
    tables save. Recently viewed from view events; team and region popularity and
    co-usage counted over the month's events of reps."""
    from sqlalchemy import func, select

    from portal.collections import home, services
    from portal.extensions import db
    from portal.library.stats import stats_for
    from portal.models import Asset, Favorite, UsageEvent, User, utcnow

    since = utcnow() - timedelta(days=30)
    recent_ids = [row[0] for row in db.session.execute(
        select(UsageEvent.asset_id, func.max(UsageEvent.occurred_at).label("at"))
        .where(UsageEvent.user_id == user.id, UsageEvent.kind == "view")
        .group_by(UsageEvent.asset_id).order_by(func.max(UsageEvent.occurred_at).desc()).limit(8))]
    favorite_ids = list(db.session.scalars(select(Favorite.asset_id).where(Favorite.user_id == user.id)
                                           .order_by(Favorite.created_at.desc()).limit(8)))
    recent = services.item_states(user, home._in_order(user, recent_ids))
    favorites = services.item_states(user, home._in_order(user, favorite_ids))
    own, kits = services.own_collections(user, 8), services.kits_for(user, 8)
    seeds = list(dict.fromkeys([*recent_ids, *favorite_ids]))
    fresh, _ = home.new_and_updated(user, home._products(seeds))
    month = select(UsageEvent.user_id, UsageEvent.asset_id).join(User, User.id == UsageEvent.user_id) \
        .where(UsageEvent.occurred_at >= since, User.role == "rep", UsageEvent.kind != "search_click")
    team = db.session.execute(
        month.with_only_columns(UsageEvent.asset_id, func.count(UsageEvent.user_id.distinct()))
        .where(User.team == user.team).group_by(UsageEvent.asset_id)
        .order_by(func.count(UsageEvent.user_id.distinct()).desc()).limit(30)).all()
    region = db.session.execute(
        month.with_only_columns(UsageEvent.asset_id, func.count(UsageEvent.user_id.distinct()))
        .where(User.region == user.region).group_by(UsageEvent.asset_id)
        .order_by(func.count(UsageEvent.user_id.distinct()).desc()).limit(30)).all()
    seed_users = month.with_only_columns(UsageEvent.user_id).where(UsageEvent.asset_id.in_(seeds[:10])).subquery()
    co = db.session.execute(
        month.with_only_columns(UsageEvent.asset_id, func.count(UsageEvent.user_id.distinct()))
        .where(UsageEvent.user_id.in_(select(seed_users.c.user_id)), UsageEvent.asset_id.not_in(seeds))
        .group_by(UsageEvent.asset_id).order_by(func.count(UsageEvent.user_id.distinct()).desc()).limit(30)).all()
    picked = [asset_id for asset_id, _ in itertools.chain(co, team, region)][:6]
    recommended = list(db.session.scalars(select(Asset).where(Asset.id.in_(picked))))
    stats = stats_for([*(s.asset.id for s in recent), *(s.asset.id for s in favorites), *(a.id for a in fresh),
                       *(a.id for a in recommended)])
    return {"recent": recent, "favorites": favorites, "own": own, "kits": kits, "fresh": fresh,
            "recommended": recommended, "stats": stats}


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return f"p50 {statistics.median(ordered):.1f} / p95 {pick(0.95):.1f} / p99 {pick(0.99):.1f} ms (n={len(ordered)})"


def timed(function: Callable[[], object], samples: list[float], cpu: list[float] | None = None) -> None:
    started, started_cpu = time.perf_counter(), time.thread_time()
    function()
    samples.append((time.perf_counter() - started) * 1000)
    if cpu is not None:  # this thread's CPU time: what the page costs, whatever else the machine runs
        cpu.append((time.thread_time() - started_cpu) * 1000)


def measure(app, kind: str, rounds: int, rep_count: int, naive_rounds: int) -> list[tuple[str, str]]:
    import requests
    from werkzeug.serving import make_server

    from portal.analytics.rollups import rebuild_rollups
    from portal.collections.home import home_for
    from portal.collections.recommendations import refresh_recommendations
    from portal.extensions import db
    from portal.library.stats import stats_for
    from portal.models import User

    figures = []
    with app.app_context():
        started = time.perf_counter()
        rebuild_rollups()
        figures.append(("rollups rebuilt (analytics, for the usage counts on tiles)",
                        f"{time.perf_counter() - started:.1f} s"))
        started = time.perf_counter()
        report = refresh_recommendations()
        figures.append((f"refresh_recommendations (the hourly job; {report.popular_rows} popular rows, "
                        f"{report.pair_rows} pairs)", f"{(time.perf_counter() - started) * 1000:.0f} ms"))
        reps = list(db.session.scalars(db.select(User).where(User.role == "rep").order_by(User.id)
                                       .limit(rep_count)))
        optimized, naive, optimized_cpu, naive_cpu = [], [], [], []
        for round_number in range(rounds):
            for user in reps:
                timed(lambda u=user: stats_for([a.id for a in home_for(u).assets()]), optimized, optimized_cpu)
                db.session.rollback()
                if round_number < naive_rounds:  # seconds each: a few rounds say enough
                    timed(lambda u=user: naive_home(u), naive, naive_cpu)
                    db.session.rollback()
        figures.append(("in process: home_for + usage counts (derived tables)", percentiles(optimized)))
        figures.append(("  the same, CPU time of the web thread (on PostgreSQL the database server works besides)", percentiles(optimized_cpu)))
        figures.append(("in process: naive (raw usage events per request)", percentiles(naive)))
        figures.append(("  the same, CPU time of the web thread (on PostgreSQL the database server works besides)", percentiles(naive_cpu)))
        emails = [user.email for user in reps]
        db.session.remove()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server_cpu: dict[str, list[float]] = {"/home": [], "/api/v1/home": []}

    def cpu_timed(environ, start_response):
        # The server thread's CPU time for the whole response (body included), per path.
        started = time.thread_time()
        body = b"".join(app.wsgi_app(environ, start_response))
        if environ["PATH_INFO"] in server_cpu:
            server_cpu[environ["PATH_INFO"]].append((time.thread_time() - started) * 1000)
        return [body]

    server = make_server("127.0.0.1", 0, cpu_timed, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    sessions, tokens = [], []
    for email in emails:
        session = requests.Session()
        assert session.post(f"{base}/login", data={"email": email, "password": PASSWORD}).ok
        sessions.append(session)
        token = requests.post(f"{base}/api/v1/tokens", json={"email": email, "password": PASSWORD}).json()["token"]
        tokens.append({"Authorization": f"Bearer {token}"})
    page, api = [], []
    for session, headers in zip(sessions, tokens, strict=True):  # warm-up: one of each per user
        session.get(f"{base}/home")
        requests.get(f"{base}/api/v1/home", headers=headers)
    for samples in server_cpu.values():
        samples.clear()
    for _ in range(rounds):
        for session, headers in zip(sessions, tokens, strict=True):
            started = time.perf_counter()
            response = session.get(f"{base}/home")
            page.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and "Recommended for you" in response.text
            started = time.perf_counter()
            response = requests.get(f"{base}/api/v1/home", headers=headers)
            api.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and "recommended" in response.json()
    server.shutdown()
    figures.append(("HTTP GET /home (HTML, session cookie)", percentiles(page)))
    figures.append(("  CPU time of the server thread", percentiles(server_cpu["/home"])))
    figures.append(("HTTP GET /api/v1/home (JSON, bearer token)", percentiles(api)))
    figures.append(("  CPU time of the server thread", percentiles(server_cpu["/api/v1/home"])))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--reps", type=int, default=20, help="reps whose home pages are timed")
    parser.add_argument("--naive-rounds", type=int, default=1, help="rounds of the naive version (slow)")
    args = parser.parse_args()
    print(f"Machine: {machine()}")
    for kind in (("sqlite", "postgresql") if args.db == "both" else (args.db,)):
        app = build_app(kind, tempfile.mkdtemp(prefix="bench-home-"), args.pg_url)
        reset_schema(app)
        started = time.perf_counter()
        sizes = generate(app)
        print(f"\n{kind}: {sizes} inserted in {time.perf_counter() - started:.0f} s")
        for name, value in measure(app, kind, args.rounds, args.reps, args.naive_rounds):
            print(f"  {name}: {value}")
    print(f"\nTarget: HTTP p95 under {TARGET_MS} ms. Machine after the run: {machine()}")


if __name__ == "__main__":
    main()
