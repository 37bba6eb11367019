"""Analytics at scale: 2,000 assets, 500 users, 5,000,000 usage events.

Generates the data straight into the database (COPY on PostgreSQL, executemany
on SQLite), then times the full rollup rebuild, the nightly rollup of one day,
and every dashboard call in process (service functions) and through HTTP (the
real views via Flask's test client, JSON API and HTML pages).

    .venv/bin/python bench/bench_analytics.py                     # both databases, 5M events
    .venv/bin/python bench/bench_analytics.py --db sqlite --events 200000
    .venv/bin/python bench/bench_analytics.py --reuse              # keep the generated data

Targets (issue 6): every dashboard and API call under 300 ms on PostgreSQL at
full size; the nightly rollup of one day's events under 10 s.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

USERS, ASSETS, DAYS = 500, 2_000, 730
TEAMS = [f"Team {n}" for n in range(1, 11)]
REGIONS = ["North America", "EMEA", "APAC", "LATAM", "Japan"]
KIND_WEIGHTS = {"view": 60, "download": 20, "search_click": 12, "deck_inclusion": 8}
PASSWORD = "bench-password"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/collateral_bench"
TARGET_MS, ROLLUP_TARGET_S = 300, 10


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))) // 1024 // 1024
    return f"{cpu}, {os.cpu_count()} cores, {memory} GiB, Python {platform.python_version()}"


def zipf_picker(n: int, rng: random.Random, s: float = 1.1):
    """Draw 1..n with Zipf-like popularity, shuffled so popular ids are spread out."""
    weights = [1 / (rank ** s) for rank in range(1, n + 1)]
    cumulative = list(itertools.accumulate(weights))
    ids = list(range(1, n + 1))
    rng.shuffle(ids)
    total = cumulative[-1]
    return lambda: ids[bisect.bisect_left(cumulative, rng.random() * total)]


# --- data ---------------------------------------------------------------------------------

def ensure_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def reset_schema(app) -> None:
    from sqlalchemy import text

    from portal.database import upgrade
    from portal.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()


def rows_present(app) -> int:
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.models import UsageEvent

    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(UsageEvent)) or 0
        except Exception:
            db.session.rollback()
            return 0


def generate(app, events: int, seed: int = 42) -> dict[str, int]:
    """Users, assets with a version each, ratings, reported uses, search logs and events."""
    from werkzeug.security import generate_password_hash

    from portal.extensions import db

    rng = random.Random(seed)
    end = datetime.combine(date.today(), datetime.min.time())
    start = end - timedelta(days=DAYS)
    password_hash = generate_password_hash(PASSWORD)
    users = []
    for n in range(1, USERS + 1):
        role = "rep" if n > 60 else ("marketer" if n <= 30 else "enablement" if n <= 50 else "admin")
        users.append((n, f"user{n}@bench.example", f"User {n}", password_hash, role, rng.choice(TEAMS),
                      rng.choice(REGIONS), True, start))
    reps = [u[0] for u in users if u[4] == "rep"]
    marketers = [u[0] for u in users if u[4] == "marketer"]
    assets, versions = [], []
    for n in range(1, ASSETS + 1):
        created = start + timedelta(days=rng.randint(0, DAYS - 30))
        assets.append((n, f"Asset {n} {rng.choice(['pricing', 'security', 'roadmap', 'case study'])}", "",
                       rng.choice(["deck", "datasheet", "case_study", "battlecard"]), rng.choice(["Care", "Platform"]),
                       "published", rng.choice(marketers), created, created))
        versions.append((n, n, 1, f"asset-{n}.pptx", f"files/{n}/v1.pptx", 1000 + n, f"{n:064x}",
                         "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx",
                         "ready", 1, 1, created))
    pick_asset, pick_rep = zipf_picker(ASSETS, rng), zipf_picker(len(reps), rng, s=0.6)
    ratings = {}
    while len(ratings) < 20_000:
        ratings[(pick_asset(), reps[pick_rep() - 1])] = rng.choice([1, 2, 3, 3, 4, 4, 4, 5, 5])
    reported = [(n, pick_asset(), reps[pick_rep() - 1], rng.choice(["presented", "emailed", "shared"]),
                 rng.choice(["won", "lost", "open"]), (start + timedelta(days=rng.randrange(DAYS))).date())
                for n in range(1, 30_001)]
    searches = 200_000
    words = ["pricing", "security", "roadmap", "healthcare", "battlecard", "zeppelin", "mars", "quantum", "roi"]
    logs = []
    for n in range(1, searches + 1):
        query = " ".join(rng.sample(words, rng.choice([1, 2])))
        found = 0 if ("zeppelin" in query or "mars" in query or "quantum" in query) else rng.randint(1, 40)
        logs.append((n, reps[pick_rep() - 1], query, query, found, start + timedelta(seconds=rng.randrange(DAYS * 86400))))

    def event_rows():
        kinds = list(KIND_WEIGHTS)
        cumulative = list(itertools.accumulate(KIND_WEIGHTS.values()))
        for n in range(1, events + 1):
            kind = kinds[bisect.bisect_left(cumulative, rng.random() * cumulative[-1])]
            asset = pick_asset()
            log_id = rng.randint(1, searches) if kind == "search_click" else None
            page = rng.randint(1, 20) if kind == "deck_inclusion" else None
            when = start + timedelta(seconds=rng.randrange(DAYS * 86400))
            yield (n, asset, asset, reps[pick_rep() - 1], kind, page, None, log_id, when)

    tables = [
        ("users", "id, email, name, password_hash, role, team, region, active, created_at", users),
        ("assets", "id, title, description, content_type, product, status, owner_id, created_at, updated_at", assets),
        ("asset_versions", "id, asset_id, number, filename, storage_key, size, sha256, mime, kind, processing, "
                           "progress_done, progress_total, created_at", versions),
        ("ratings", "asset_id, user_id, stars, comment, review_status, created_at, updated_at",
         [(a, u, s, "", "open", end, end) for (a, u), s in ratings.items()]),
        ("reported_uses", "id, asset_id, user_id, kind, outcome, occurred_on, account, opportunity, note, created_at, "
                          "updated_at", [(*r, "", "", "", end, end) for r in reported]),
        ("search_logs", "id, user_id, query, normalized_query, result_count, created_at, scope, filters",
         [(*log, "assets", "{}") for log in logs]),
        ("usage_events", "id, asset_id, version_id, user_id, kind, page_number, deck_id, search_log_id, occurred_at",
         event_rows()),
    ]
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            dialect = db.engine.dialect.name
            for table, columns, rows in tables:
                began = time.perf_counter()
                count = (_copy_pg if dialect == "postgresql" else _insert_sqlite)(connection, table, columns, rows)
                print(f"  loaded {count:>9,} {table} in {time.perf_counter() - began:.1f} s", flush=True)
            if dialect == "postgresql":
                cursor = connection.cursor()
                cursor.execute("UPDATE assets SET current_version_id = id")
                for table in ("users", "assets", "asset_versions", "reported_uses", "search_logs", "usage_events"):
                    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                cursor.execute("ANALYZE")
            else:
                connection.execute("UPDATE assets SET current_version_id = id")
                connection.execute("ANALYZE")
            connection.commit()
        finally:
            connection.close()
    return {"users": USERS, "assets": ASSETS, "events": events, "ratings": len(ratings),
            "reported_uses": len(reported), "search_logs": searches}


def _copy_pg(connection, table: str, columns: str, rows) -> int:
    count = 0
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    connection.commit()
    return count


def _insert_sqlite(connection, table: str, columns: str, rows) -> int:
    count = 0
    placeholders = ", ".join("?" * len(columns.split(",")))
    connection.execute("PRAGMA synchronous=OFF")
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, 100_000)):
        connection.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",
                               [tuple(v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else
                                      v.isoformat() if isinstance(v, date) else v for v in row) for row in chunk])
        connection.commit()
        count += len(chunk)
    connection.execute("PRAGMA synchronous=NORMAL")
    return count


# --- timing -------------------------------------------------------------------------------

def timed(function, repeat: int = 7) -> tuple[float, float]:
    function()  # warm-up
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), max(samples)


def measure(app, label: str, results: list) -> None:
    from portal.analytics import retirement, rollups, services
    from portal.extensions import db
    from portal.models import Asset

    with app.app_context():
        began = time.perf_counter()
        report = rollups.rebuild_rollups()
        results.append((label, "full rollup rebuild", (time.perf_counter() - began) * 1000, None,
                        f"{report.days} days, {report.usage_rows:,} daily_usage rows"))
        day = date.today() - timedelta(days=3)
        samples = []
        for _ in range(3):
            began = time.perf_counter()
            rollups.rollup_days([day])
            samples.append((time.perf_counter() - began) * 1000)
        results.append((label, "nightly rollup of one day", statistics.median(samples), max(samples),
                        f"target < {ROLLUP_TARGET_S} s"))
        popular = db.session.scalar(db.select(Asset.id).order_by(Asset.id).limit(1))
        asset = db.session.get(Asset, popular)
        calls = []
        for days in (30, 90, 365):
            window = services.parse_range({"days": str(days)})
            calls += [(f"overview {days} d", lambda w=window: services.overview(w)),
                      (f"asset table + leaderboards {days} d", lambda w=window: services.asset_table(w).leaderboards())]
        window = services.parse_range({"days": "90"})
        calls += [("one asset 90 d", lambda: services.asset_analytics(asset, window)),
                  ("search gaps 90 d", lambda: services.search_gaps(window)),
                  ("unclicked searches 90 d", lambda: services.unclicked_searches(window)),
                  ("retirement candidates", lambda: retirement.retirement_candidates(90))]
        for name, call in calls:
            median, worst = timed(call)
            db.session.rollback()
            results.append((label, f"in process: {name}", median, worst, ""))

    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"email": "user1@bench.example", "password": PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    client.post("/login", data={"email": "user1@bench.example", "password": PASSWORD})
    urls = [f"/api/v1/analytics/overview?days={d}" for d in (30, 90, 365)]
    urls += [f"/api/v1/analytics/assets?days={d}" for d in (30, 90, 365)]
    urls += ["/api/v1/analytics/leaderboards?days=90", f"/api/v1/analytics/assets/{popular}?days=90",
             "/api/v1/analytics/search-gaps?days=90", "/api/v1/analytics/unclicked-searches?days=90",
             "/api/v1/analytics/retirement-candidates?unused_days=90"]
    pages = ["/analytics/?days=30", "/analytics/?days=365", "/analytics/content?days=90",
             f"/analytics/assets/{popular}?days=90", "/analytics/search-gaps?days=90", "/analytics/retirement",
             "/analytics/export/assets.csv?days=90"]
    for url in urls + pages:
        def get(url=url):
            response = client.get(url, headers=headers if url.startswith("/api/") else {})
            assert response.status_code == 200, (url, response.status_code)
        median, worst = timed(get)
        results.append((label, f"HTTP GET {url}", median, worst, ""))


def build_app(kind: str, data_dir: str, pg_url: str):
    from portal import create_app
    from portal.config import load_settings

    env = {"PORTAL_DATA_DIR": data_dir, "PORTAL_QUEUE": "immediate"}
    if kind == "postgresql":
        ensure_pg_database(pg_url)
        env["DATABASE_URL"] = pg_url
    return create_app(load_settings(env), START_EMBEDDED_WORKER=False, AUTO_MIGRATE=False, WTF_CSRF_ENABLED=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep data already generated with as many events")
    parser.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "collateral-bench-analytics"))
    parser.add_argument("--pg-url", default=PG_URL)
    args = parser.parse_args()
    print(f"Machine: {machine()}")
    results: list = []
    for kind in (["postgresql", "sqlite"] if args.db == "both" else [args.db]):
        data_dir = os.path.join(args.dir, kind)
        os.makedirs(data_dir, exist_ok=True)
        app = build_app(kind, data_dir, args.pg_url)
        if args.reuse and rows_present(app) == args.events:
            print(f"{kind}: reusing {args.events:,} events")
        else:
            if kind == "sqlite":  # start from an empty file
                with app.app_context():
                    from portal.extensions import db

                    db.engine.dispose()
                for suffix in ("", "-wal", "-shm"):
                    Path(data_dir, "portal.db" + suffix).unlink(missing_ok=True)
            print(f"{kind}: generating {USERS} users, {ASSETS} assets, {args.events:,} events", flush=True)
            reset_schema(app)
            generate(app, args.events)
        measure(app, kind, results)
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()

    print(f"\n{'database':<11} {'figure':<66} {'median':>10} {'max':>10}  target")
    for label, name, median, worst, note in results:
        if note:
            verdict = note
        else:
            verdict = f"< {TARGET_MS} ms: {'met' if median < TARGET_MS else 'MISSED'}" if label == "postgresql" else ""
        if name.startswith("nightly"):
            verdict = f"< {ROLLUP_TARGET_S} s: {'met' if median < ROLLUP_TARGET_S * 1000 else 'MISSED'}"
        worst_text = f"{worst:,.0f} ms" if worst is not None else ""
        print(f"{label:<11} {name:<66} {median:>7,.0f} ms {worst_text:>10}  {verdict}")


if __name__ == "__main__":
    main()
