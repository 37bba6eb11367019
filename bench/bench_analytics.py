"""Analytics at scale: 2,000 assets, 500 users, 5,000,000 usage events.

Generates two years of usage straight into the database (COPY on PostgreSQL,
executemany in large transactions on SQLite), then times the full rollup
rebuild, the nightly rollup of one day, the queue's rollup job, and every
dashboard call, in process (the service functions) and through the real views
(Flask's test client: the JSON API, the HTML pages and CSV exports). The calls
are timed twice: just after the rollup job ran, and "a day behind": a whole
weekday of use recorded since the rollups' watermark, which the dashboards read
raw on top of the rollups (the job runs every 15 minutes, so that is about 96
times what they read raw normally).

    .venv/bin/python bench/bench_analytics.py                          # both databases, 5M events
    .venv/bin/python bench/bench_analytics.py --db sqlite --events 200000   # smoke check
    .venv/bin/python bench/bench_analytics.py --db postgresql --reuse  # keep data already generated

Targets (issue 6): every dashboard and API call under 300 ms on PostgreSQL at
full size; the nightly rollup of one day's events under 10 s.

The data: 500 users (mostly reps in 10 teams and 5 regions; some marketers,
enablement leads and admins), 2,000 assets with one version each (some retired,
some expiring, a few superseded titles and duplicate files, a few never used),
events in time order with weekday/office-hour rhythm and growth over the two
years, Zipf-like popularity over assets (s = 1) and reps (s = 0.7): about 72%
views, 20% downloads, 4% search click-throughs (each linked to a search that
found something, minutes after it) and 4% deck inclusions (with slide numbers);
30,000 reported uses, 20,000 ratings and 200,000 searches (about 9% find
nothing; some queries find results nobody opens; fewer searches with --events
below 5,000,000). Every day's rows come from a generator seeded by the day, so
memory stays bounded and runs are repeatable.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

USERS, ASSETS, DAYS = 500, 2_000, 730
RATINGS, REPORTED_USES, SEARCHES_AT_FULL_SIZE, FULL_SIZE = 20_000, 30_000, 200_000, 5_000_000
TEAMS = [f"{side} {n}" for side in ("Enterprise", "Mid-market") for n in range(1, 6)]
REGIONS = ["North America", "EMEA", "APAC", "LATAM", "Japan"]
# kinds of events other than search click-throughs, which follow the searches
OTHER_KINDS = {"view": 75, "download": 21, "deck_inclusion": 4}
HOUR_WEIGHTS = [0.2] * 7 + [1, 3, 5, 6, 6, 5, 6, 6, 5, 4, 2, 1] + [0.5, 0.3, 0.2, 0.2, 0.2]
WORDS = """pricing security roadmap healthcare battlecard roi case study hipaa onboarding renewal
discount procurement cfo ciso competitor datasheet migration cloud privacy gdpr soc integration
platform analytics workflow enterprise partner channel retail finance insurance manufacturing""".split()
GAP_WORDS = ["zeppelin", "japanese", "fedramp", "bundle", "reseller", "terms", "quote", "webinar"]
PASSWORD = "bench-password"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/collateral_bench"
TARGET_MS, ROLLUP_TARGET_MS = 300, 10_000
REPEAT = 7
ROLLUP_TABLES = ("daily_usage", "daily_activity", "daily_kind_usage", "weekly_asset_usage", "weekly_activity",
                 "asset_usage_totals")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")))
    return f"{cpu}, {os.cpu_count()} cores, {kib / 2**20:.0f} GiB RAM, Python {platform.python_version()}"


def zipf_cumulative(n: int, s: float) -> list[float]:
    return list(itertools.accumulate(1 / rank ** s for rank in range(1, n + 1)))


def spread(total: int, weights: list[float]) -> list[int]:
    """Split total into whole parts proportional to weights (the parts add up exactly)."""
    scale = total / sum(weights)
    parts, carried, done = [], 0.0, 0
    for weight in weights:
        carried += weight * scale
        parts.append(round(carried) - done)
        done += parts[-1]
    return parts


# --- the synthetic company ----------------------------------------------------------------

@dataclass
class World:
    """Everything but the events, small enough to keep in memory."""

    seed: int
    start: date  # first day with events
    searches: int
    users: list[tuple]
    assets: list[tuple]
    versions: list[tuple]
    reps: list[int]
    staff: list[int]
    alive: list[tuple[int, int]]  # per asset (index id - 1): first and last+1 ordinal day it can be used
    pages: list[int]  # per asset: slide count
    asset_ids: list[int]  # in popularity order, most used first (never-used assets left out)
    asset_cumulative: list[float]
    rep_cumulative: list[float]
    day_weights: list[float]
    queries: list[tuple[str, int, float]]  # (query, typical result count, chance a search is clicked)
    query_cumulative: list[float]

    def day(self, n: int) -> date:
        return self.start + timedelta(days=n)

    def pick_assets(self, rng: random.Random, day: date, k: int) -> list[int]:
        """k assets by popularity among those in the library that day."""
        chosen = rng.choices(self.asset_ids, cum_weights=self.asset_cumulative, k=k)
        ordinal = day.toordinal()
        for n, asset in enumerate(chosen):
            tries = 0
            while not self.alive[asset - 1][0] <= ordinal < self.alive[asset - 1][1] and tries < 20:
                asset = rng.choices(self.asset_ids, cum_weights=self.asset_cumulative)[0]
                tries += 1
            chosen[n] = asset
        return chosen

    def pick_users(self, rng: random.Random, k: int) -> list[int]:
        """Mostly reps (a few heavy users, a long tail), some staff."""
        reps = rng.choices(self.reps, cum_weights=self.rep_cumulative, k=k)
        return [rng.choice(self.staff) if rng.random() < 0.05 else rep for rep in reps]

    def times(self, rng: random.Random, day: date, k: int) -> list[datetime]:
        midnight = datetime.combine(day, datetime.min.time())
        hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=k)
        return sorted(midnight + timedelta(seconds=hour * 3600 + rng.randrange(3600)) for hour in hours)


def build_world(events: int, seed: int = 42) -> World:
    from werkzeug.security import generate_password_hash

    rng = random.Random(seed)
    today = datetime.now(UTC).date()  # events are stamped in UTC
    start = today - timedelta(days=DAYS)
    password_hash = generate_password_hash(PASSWORD)
    users, reps, staff = [], [], []
    for n in range(1, USERS + 1):
        role = "marketer" if n <= 25 else "enablement" if n <= 40 else "admin" if n <= 45 else "rep"
        team, region = (rng.choice(TEAMS), rng.choice(REGIONS)) if role == "rep" else (None, None)
        if role == "enablement":
            region = rng.choice(REGIONS)
        active = role != "rep" or rng.random() > 0.04
        joined = datetime.combine(start - timedelta(days=rng.randint(0, 600)), datetime.min.time())
        users.append((n, f"user{n}@bench.example", f"Bench User {n}", password_hash, role, team, region, active,
                      joined))
        (reps if role == "rep" else staff).append(n)
    marketers = [u[0] for u in users if u[4] == "marketer"]
    rng.shuffle(reps)

    assets, versions, alive, pages, titles, weights = [], [], [], [], [], []
    for n in range(1, ASSETS + 1):
        if rng.random() < 0.55:  # already in the library when the two years begin
            created = start - timedelta(days=rng.randint(1, 400))
        else:
            created = start + timedelta(days=rng.randint(0, DAYS - 7))
        created_at = datetime.combine(created, datetime.min.time()) + timedelta(seconds=rng.randrange(86400))
        retired_at = None
        if rng.random() < 0.05:
            retired_on = max(created + timedelta(days=30), today - timedelta(days=rng.randint(5, 300)))
            retired_at = datetime.combine(min(retired_on, today - timedelta(days=1)), datetime.min.time())
        expires_on = None
        if rng.random() < 0.15:
            expires_on = today + timedelta(days=rng.randint(-60, 400))
        content_type = rng.choice(["deck", "deck", "datasheet", "case_study", "battlecard", "one_pager",
                                   "price_sheet", "video"])
        if titles and rng.random() < 0.03:  # a newer copy of an older item: "superseded"
            title = rng.choice(titles)
        else:
            title = " ".join(rng.sample(WORDS, rng.randint(2, 4))).title() + f" ({n})"
        titles.append(title)
        owner = rng.choice(marketers)
        assets.append((n, title, "", content_type, rng.choice(["Care Platform", "Insights", "Connect", "Secure"]),
                       rng.choice(["awareness", "discovery", "evaluation", "proposal", "negotiation"]),
                       rng.choice(REGIONS + [None]), "retired" if retired_at else "published", expires_on, owner,
                       None, retired_at, "Replaced" if retired_at else None, created_at, created_at))
        page_count = rng.randint(8, 40) if content_type == "deck" else rng.randint(1, 6)
        sha = f"{rng.randrange(n - 1) + 1:064x}" if n > 1 and rng.random() < 0.01 else f"{n:064x}"  # a few duplicates
        versions.append((n, n, 1, f"asset-{n}.pptx", f"assets/{n}/1/asset-{n}.pptx", 50_000 + n * 37, sha,
                         "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx",
                         "ready", page_count, page_count, page_count, owner, created_at, created_at))
        alive.append((created.toordinal(), (retired_at.date() if retired_at else today + timedelta(days=1)).toordinal()))
        pages.append(page_count)
        weights.append(0.0 if rng.random() < 0.03 else 1.0)  # a few items nobody ever uses
    ranked = [n for n in range(1, ASSETS + 1) if weights[n - 1]]
    rng.shuffle(ranked)
    asset_cumulative = zipf_cumulative(len(ranked), 1.0)

    day_weights = []
    for n in range(DAYS):
        day = start + timedelta(days=n)
        weekday = 0.2 if day.weekday() >= 5 else 1.0
        growth = 0.6 + 0.8 * n / DAYS  # adoption grows over the two years
        day_weights.append(weekday * growth * rng.uniform(0.85, 1.15))

    queries = []
    for _ in range(1_500):
        if rng.random() < 0.15:  # asks for something the library does not have
            words = [rng.choice(GAP_WORDS), *rng.sample(WORDS, rng.randint(0, 1))]
            queries.append((" ".join(words), 0, 0.0))
        else:
            words = rng.sample(WORDS, rng.choice([1, 1, 2, 2, 3]))
            clicked = 0.0 if rng.random() < 0.08 else rng.uniform(0.5, 0.85)  # results nobody opens
            queries.append((" ".join(words), rng.randint(1, 200), clicked))
    queries = list({q[0]: q for q in queries}.values())
    rng.shuffle(queries)
    searches = max(1_000, round(SEARCHES_AT_FULL_SIZE * events / FULL_SIZE))
    return World(seed, start, searches, users, assets, versions, reps, staff, alive, pages, ranked,
                 asset_cumulative, zipf_cumulative(len(reps), 0.7), day_weights, queries,
                 zipf_cumulative(len(queries), 0.9))


def day_searches(world: World, n: int, first_id: int, count: int) -> list[tuple]:
    """The searches of day n, each with its click-throughs: (row, [(asset, when), ...])."""
    rng = random.Random(f"{world.seed}-searches-{n}")
    day = world.day(n)
    users = world.pick_users(rng, count)
    found = []
    end_of_day = datetime.combine(day, datetime.max.time()).replace(microsecond=0)
    for offset, (when, user) in enumerate(zip(world.times(rng, day, count), users, strict=True)):
        query, results, click_chance = rng.choices(world.queries, cum_weights=world.query_cumulative)[0]
        shown = query.title() if rng.random() < 0.2 else query
        result_count = max(1, int(results * rng.uniform(0.7, 1.3))) if results else 0
        clicks = []
        if result_count and rng.random() < click_chance:
            for asset in world.pick_assets(rng, day, rng.choice([1, 1, 1, 2, 2, 3])):
                clicks.append((asset, min(end_of_day, when + timedelta(seconds=rng.randint(3, 600)))))
        found.append(((first_id + offset, user, shown, query, "assets", "{}", result_count, when), clicks))
    return found


def search_rows(world: World, per_day: list[int]) -> Iterator[tuple]:
    first = 1
    for n, count in enumerate(per_day):
        for row, _ in day_searches(world, n, first, count):
            yield row
        first += count


def event_rows(world: World, events: int, searches_per_day: list[int]) -> Iterator[tuple]:
    """Usage events in time order, one day at a time."""
    per_day = spread(events, world.day_weights)
    kinds, kind_weights = list(OTHER_KINDS), list(OTHER_KINDS.values())
    event_id, log_id = 1, 1
    for n, total in enumerate(per_day):
        day = world.day(n)
        rows = []
        for (log, user, *_), clicks in day_searches(world, n, log_id, searches_per_day[n]):
            rows += [(when, asset, user, "search_click", None, None, log) for asset, when in clicks]
        log_id += searches_per_day[n]
        rows = rows[:total]
        rng = random.Random(f"{world.seed}-events-{n}")
        others = total - len(rows)
        for when, asset, user, kind in zip(world.times(rng, day, others), world.pick_assets(rng, day, others),
                                           world.pick_users(rng, others),
                                           rng.choices(kinds, weights=kind_weights, k=others), strict=True):
            page = deck = None
            if kind == "deck_inclusion":  # opening slides get picked more often than the last ones
                page = min(rng.randint(1, world.pages[asset - 1]), rng.randint(1, world.pages[asset - 1]))
                deck = rng.randint(1, 60_000)
            rows.append((when, asset, user, kind, page, deck, None))
        rows.sort(key=lambda row: row[0])
        for when, asset, user, kind, page, deck, log in rows:
            yield (event_id, asset, asset, user, kind, page, deck, log, when)
            event_id += 1


def rating_rows(world: World) -> list[tuple]:
    rng = random.Random(f"{world.seed}-ratings")
    quality = {asset: rng.uniform(1.6, 4.9) for asset in world.asset_ids}
    today = world.start + timedelta(days=DAYS)
    pairs: dict[tuple[int, int], tuple] = {}
    while len(pairs) < RATINGS:
        day = world.day(rng.randrange(DAYS))
        asset = world.pick_assets(rng, day, 1)[0]
        user = world.pick_users(rng, 1)[0]
        if (asset, user) in pairs:
            continue
        stars = min(5, max(1, round(rng.gauss(quality[asset], 0.9))))
        comment = "" if stars > 2 or rng.random() < 0.5 else "Numbers look out of date"
        when = datetime.combine(day, datetime.min.time()) + timedelta(seconds=rng.randrange(86400))
        pairs[(asset, user)] = (asset, user, stars, comment, "open" if comment else "resolved", when,
                                min(when + timedelta(days=rng.randint(0, 30)), datetime.combine(today, datetime.min.time())))
    return list(pairs.values())


def reported_rows(world: World) -> list[tuple]:
    rng = random.Random(f"{world.seed}-reported")
    per_day = spread(REPORTED_USES, world.day_weights)
    rows, n = [], 1
    for d, count in enumerate(per_day):
        day = world.day(d)
        for asset, user in zip(world.pick_assets(rng, day, count), world.pick_users(rng, count), strict=True):
            made = datetime.combine(day, datetime.min.time()) + timedelta(hours=rng.randint(8, 18))
            rows.append((n, asset, user, rng.choice(["presented", "presented", "emailed", "shared", "printed"]),
                         f"Account {rng.randint(1, 3000)}", f"Opportunity {rng.randint(1, 9000)}",
                         rng.choice(["won", "lost", "open", "open", None]), "", day, made, made))
            n += 1
    return rows


TABLES = {
    "users": "id, email, name, password_hash, role, team, region, active, created_at",
    "assets": "id, title, description, content_type, product, stage, region, status, expires_on, owner_id, "
              "current_version_id, retired_at, retired_reason, created_at, updated_at",
    "asset_versions": "id, asset_id, number, filename, storage_key, size, sha256, mime, kind, processing, "
                      "progress_done, progress_total, page_count, uploaded_by_id, created_at, processed_at",
    "ratings": "asset_id, user_id, stars, comment, review_status, created_at, updated_at",
    "reported_uses": "id, asset_id, user_id, kind, account, opportunity, outcome, note, occurred_on, created_at, "
                     "updated_at",
    "search_logs": "id, user_id, query, normalized_query, scope, filters, result_count, created_at",
    "usage_events": "id, asset_id, version_id, user_id, kind, page_number, deck_id, search_log_id, occurred_at",
}


def generate(app, events: int) -> None:
    from portal.extensions import db

    world = build_world(events)
    searches_per_day = spread(world.searches, world.day_weights)
    sources: list[tuple[str, Callable[[], object]]] = [
        ("users", lambda: world.users),
        ("assets", lambda: world.assets),  # current_version_id is set once the versions are in
        ("asset_versions", lambda: world.versions),
        ("ratings", lambda: rating_rows(world)),
        ("reported_uses", lambda: reported_rows(world)),
        ("search_logs", lambda: search_rows(world, searches_per_day)),
        ("usage_events", lambda: event_rows(world, events, searches_per_day)),
    ]
    with app.app_context():
        connection = db.engine.raw_connection()
        postgresql = db.engine.dialect.name == "postgresql"
        try:
            if not postgresql:
                connection.execute("PRAGMA synchronous=OFF")
            for table, rows in sources:
                began = time.perf_counter()
                count = (_copy_pg if postgresql else _insert_sqlite)(connection, table, TABLES[table], rows())
                print(f"  loaded {count:>10,} {table:<15} in {time.perf_counter() - began:6.1f} s", flush=True)
            began = time.perf_counter()
            cursor = connection.cursor()
            cursor.execute("UPDATE assets SET current_version_id = id")
            connection.commit()
            if postgresql:
                with connection.cursor() as cursor:
                    for table in ("users", "assets", "asset_versions", "ratings", "reported_uses", "search_logs",
                                  "usage_events"):
                        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                       f"(SELECT max(id) FROM {table}))")
                connection.commit()
                driver = connection.driver_connection
                driver.autocommit = True  # VACUUM runs outside a transaction
                driver.execute("VACUUM ANALYZE")  # as autovacuum would after a load: visibility map, statistics
                driver.autocommit = False
            else:
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.execute("ANALYZE")
                connection.commit()
            print(f"  constraints, statistics      in {time.perf_counter() - began:6.1f} s", flush=True)
        finally:
            connection.close()


def _copy_pg(connection, table: str, columns: str, rows) -> int:
    count = 0
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    connection.commit()
    return count


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _insert_sqlite(connection, table: str, columns: str, rows) -> int:
    count = 0
    placeholders = ", ".join("?" * len(columns.split(",")))
    statement = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, 200_000)):
        connection.executemany(statement, [tuple(map(_sqlite_value, row)) for row in chunk])
        connection.commit()
        count += len(chunk)
    return count


# --- the database -------------------------------------------------------------------------

def ensure_pg_database(url: str) -> None:
    import psycopg

    server, name = url.split("://", 1)[1].rsplit("/", 1)
    with psycopg.connect(f"postgresql://{server}/postgres", autocommit=True) as connection:
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


def dataset(app) -> dict[str, object]:
    """What is in the database, counted there (so --reuse reports the real sizes)."""
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.models import (
        Asset,
        AssetVersion,
        Rating,
        ReportedUse,
        SearchLog,
        UsageEvent,
        User,
    )

    with app.app_context():
        try:
            count = lambda model, *where: db.session.scalar(  # noqa: E731
                select(func.count()).select_from(model).where(*where))
            sizes = {
                "events": count(UsageEvent),
                "users": count(User),
                "assets": count(Asset),
                "versions": count(AssetVersion),
                "ratings": count(Rating),
                "reported_uses": count(ReportedUse),
                "search_logs": count(SearchLog),
            }
            if not sizes["events"]:
                return sizes
            sizes["roles"] = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
            sizes["teams"] = count(select(User.team).where(User.team.is_not(None)).distinct().subquery())
            sizes["regions"] = count(select(User.region).where(User.region.is_not(None)).distinct().subquery())
            sizes["retired"] = count(Asset, Asset.status == "retired")
            sizes["kinds"] = dict(db.session.execute(
                select(UsageEvent.kind, func.count()).group_by(UsageEvent.kind)).all())
            sizes["zero_result_searches"] = count(SearchLog, SearchLog.result_count == 0)
            sizes["span"] = db.session.execute(
                select(func.min(UsageEvent.occurred_at), func.max(UsageEvent.occurred_at))).one()
            return sizes
        except Exception:  # no schema yet
            db.session.rollback()
            return {"events": 0}


def describe(sizes: dict) -> str:
    kinds = ", ".join(f"{n:,} {kind}" for kind, n in sorted(sizes["kinds"].items(), key=lambda kv: -kv[1]))
    roles = ", ".join(f"{n} {role}" for role, n in sorted(sizes["roles"].items(), key=lambda kv: -kv[1]))
    first, last = sizes["span"]
    return (f"{sizes['users']:,} users ({roles}; {sizes['teams']} teams, {sizes['regions']} regions), "
            f"{sizes['assets']:,} assets ({sizes['retired']} retired) with {sizes['versions']:,} versions, "
            f"{sizes['events']:,} usage events ({kinds}) from {first:%Y-%m-%d} to {last:%Y-%m-%d}, "
            f"{sizes['reported_uses']:,} reported uses, {sizes['ratings']:,} ratings, "
            f"{sizes['search_logs']:,} searches ({sizes['zero_result_searches']:,} found nothing)")


# --- timing -------------------------------------------------------------------------------

@dataclass
class Figure:
    database: str
    name: str
    median_ms: float
    max_ms: float | None
    target_ms: float | None
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.target_ms is None:
            return ""
        return "met" if self.median_ms < self.target_ms else "MISSED"


def timed(function: Callable[[], object], repeat: int = REPEAT) -> tuple[float, float]:
    """Median and max of `repeat` runs after one warm-up run, in ms."""
    function()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), max(samples)


def typical_recent_day(today: date) -> date:
    """A recent full weekday (weekends are quiet, so not typical)."""
    day = today - timedelta(days=2)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def awkward_year(today: date) -> tuple[date, date]:
    """The latest 365-day range that ends before today and starts on a Tuesday:
    the most days outside whole Monday-to-Sunday weeks a year can have (6 at
    the start, 2 at the end), which the weekly rollups cannot answer."""
    until = today - timedelta(days=1)
    while until.weekday() != 1:
        until -= timedelta(days=1)
    return until - timedelta(days=364), until


def _compressed(moment: datetime, day: date, into_start: datetime, into_end: datetime) -> datetime:
    """A moment of `day` moved to the same share of the span into_start..into_end."""
    share = (moment - datetime.combine(day, datetime.min.time())) / timedelta(days=1)
    return into_start + (into_end - into_start) * share


def fall_behind(day: date) -> tuple[int, int]:
    """As if the rollup job had not run since midnight while a whole day of use
    came in: the watermark goes back to the start of today, and the usage events
    of `day` are recorded again today (their times squeezed into midnight..now),
    with its reported uses (recorded today, backdated to `day`). Returns the
    numbers of events and reported uses added."""
    from sqlalchemy import insert, select

    from portal.extensions import db
    from portal.models import ReportedUse, UsageEvent

    midnight = datetime.combine(datetime.now(UTC).date(), datetime.min.time())
    now = datetime.now(UTC).replace(tzinfo=None)
    start = datetime.combine(day, datetime.min.time())
    rewind(midnight, [day])
    columns = [UsageEvent.asset_id, UsageEvent.version_id, UsageEvent.user_id, UsageEvent.kind,
               UsageEvent.page_number, UsageEvent.deck_id, UsageEvent.search_log_id, UsageEvent.occurred_at]
    events = [{**row._asdict(), "occurred_at": _compressed(row.occurred_at, day, midnight, now)}
              for row in db.session.execute(select(*columns).where(
                  UsageEvent.occurred_at >= start, UsageEvent.occurred_at < start + timedelta(days=1)))]
    reported = [{**row._asdict(), "created_at": _compressed(row.created_at, day, midnight, now),
                 "updated_at": _compressed(row.created_at, day, midnight, now)}
                for row in db.session.execute(select(
                    ReportedUse.asset_id, ReportedUse.user_id, ReportedUse.kind, ReportedUse.account,
                    ReportedUse.opportunity, ReportedUse.outcome, ReportedUse.note, ReportedUse.occurred_on,
                    ReportedUse.created_at).where(ReportedUse.occurred_on == day))]
    db.session.execute(insert(UsageEvent), events)
    db.session.execute(insert(ReportedUse), reported)
    db.session.commit()
    return len(events), len(reported)


def rewind(to: datetime, days: list[date]) -> None:
    """Put the rollups back to an earlier watermark: these days rolled up again
    holding only what was recorded before it."""
    from sqlalchemy import update

    from portal.analytics import rollups
    from portal.extensions import db
    from portal.models import RollupWatermark

    db.session.execute(update(RollupWatermark).values(rolled_up_until=to))
    db.session.commit()
    rollups.rollup_days([*days, to.date()])


def catch_up(day: date) -> None:
    """Undo fall_behind: drop what it recorded today, roll the days up again,
    bring the watermark to now."""
    from sqlalchemy import delete

    from portal.analytics import rollups
    from portal.extensions import db
    from portal.models import ReportedUse, UsageEvent

    midnight = datetime.combine(datetime.now(UTC).date(), datetime.min.time())
    db.session.execute(delete(UsageEvent).where(UsageEvent.occurred_at >= midnight))  # the data ends yesterday
    db.session.execute(delete(ReportedUse).where(ReportedUse.created_at >= midnight))
    db.session.commit()
    rollups.rollup_days([day, midnight.date()])
    rollups.rollup_recent()


def measure(app, database: str, figures: list[Figure], skip_rebuild: bool = False) -> None:
    """The rollups, then every dashboard call twice: just after the rollup job
    ran (nothing to read raw) and a day behind (a weekday of use recorded since
    the watermark, read raw on top of the rollups: 96 times the usual quarter
    of an hour)."""
    from sqlalchemy import func, select, text

    from portal.analytics import asset_report, asset_table, overview, ranges, rollups, search_gaps
    from portal.extensions import db
    from portal.library.stats import stats_for
    from portal.models import Asset, AssetUsageTotal, UsageEvent

    def add(name: str, median: float, worst: float | None, target: float | None, note: str = "") -> None:
        figures.append(Figure(database, name, median, worst, target, note))
        target_text = f"target < {target:,.0f} ms: {figures[-1].verdict}" if target else ""
        print(f"  {name:<66} {median:>9,.0f} ms  max {worst or median:>9,.0f} ms  {target_text} {note}",
              flush=True)

    def rollup_job(name: str, prepare: Callable[[], object] = lambda: None) -> None:
        samples = []
        for _ in range(3):
            prepare()
            began = time.perf_counter()
            report = rollups.rollup_recent()
            samples.append((time.perf_counter() - began) * 1000)
        add(f"{name} (median of 3)", statistics.median(samples), max(samples), None,
            f"(rolled up {report.days} day{'' if report.days == 1 else 's'})")

    with app.app_context():
        if not skip_rebuild or not db.session.scalar(select(func.count()).select_from(AssetUsageTotal)):
            began = time.perf_counter()
            report = rollups.rebuild_rollups()
            elapsed = (time.perf_counter() - began) * 1000
            add("full rollup rebuild (rebuild_rollups)", elapsed, None, None,
                f"({report.days} days, {report.weeks} weeks, {report.usage_rows:,} daily_usage rows, "
                f"{report.active_users:,} daily_activity rows)")
            if db.engine.dialect.name == "postgresql":
                # What autovacuum does soon after such a change (this server may run with it off):
                # without statistics the planner takes the freshly filled rollups for empty tables.
                with db.engine.connect() as connection:
                    connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                        text(f"VACUUM ANALYZE {', '.join(ROLLUP_TABLES)}"))
        day = typical_recent_day(datetime.now(UTC).date())
        start = datetime.combine(day, datetime.min.time())
        day_events = db.session.scalar(select(func.count()).select_from(UsageEvent).where(
            UsageEvent.occurred_at >= start, UsageEvent.occurred_at < start + timedelta(days=1)))
        samples = []
        for _ in range(3):
            began = time.perf_counter()
            report = rollups.rollup_days([day])
            samples.append((time.perf_counter() - began) * 1000)
        add(f"nightly rollup of one day ({day}, median of 3)", statistics.median(samples), max(samples),
            ROLLUP_TARGET_MS, f"({day_events:,} events, {report.usage_rows:,} rollup rows, "
                              f"{report.assets_touched:,} asset totals)")
        rollup_job("queue job every 15 min, nothing new since the last run")
        rollup_rows = {table: db.session.scalar(text(f"SELECT count(*) FROM {table}")) for table in ROLLUP_TABLES}
        print("  rollups now: " + ", ".join(f"{n:,} {table}" for table, n in rollup_rows.items()), flush=True)
        popular = db.session.scalar(select(AssetUsageTotal.asset_id).order_by(AssetUsageTotal.events.desc()).limit(1))
        median_asset = db.session.scalar(
            select(AssetUsageTotal.asset_id).order_by(AssetUsageTotal.events.desc()).offset(500).limit(1))
        most_used = list(db.session.scalars(
            select(AssetUsageTotal.asset_id).order_by(AssetUsageTotal.events.desc()).limit(50)))

        calls: list[tuple[str, Callable[[], object]]] = []
        for days in (30, 90, 365):
            window = ranges.parse_range({"days": str(days)})
            calls.append((f"overview {days} d", lambda w=window: overview.overview(w)))
        for days in (30, 90, 365):
            window = ranges.parse_range({"days": str(days)})
            calls.append((f"asset table + leaderboards {days} d",
                          lambda w=window: asset_table.asset_table(w).leaderboards()))
        awkward = ranges.DateRange(*awkward_year(datetime.now(UTC).date()))
        calls += [
            (f"overview 365 d, Tuesday to Tuesday ({awkward.since} to {awkward.until})",
             lambda: overview.overview(awkward)),
            ("asset table + leaderboards 365 d, Tuesday to Tuesday", lambda: asset_table.asset_table(awkward).leaderboards()),
        ]
        for days in (90, 365):
            window = ranges.parse_range({"days": str(days)})
            calls += [
                (f"one asset {days} d (the most used)",
                 lambda w=window: asset_report.asset_analytics(db.session.get(Asset, popular), w)),
                (f"one asset {days} d (the 500th most used)",
                 lambda w=window: asset_report.asset_analytics(db.session.get(Asset, median_asset), w)),
                (f"search gaps {days} d", lambda w=window: search_gaps.search_gaps(w)),
                (f"unclicked searches {days} d", lambda w=window: search_gaps.unclicked_searches(w)),
            ]
        calls.append(("one asset 365 d, Tuesday to Tuesday (the most used)",
                      lambda: asset_report.asset_analytics(db.session.get(Asset, popular), awkward)))
        rules = {rule.rule for rule in app.url_map.iter_rules()}
        retirement_there = "/api/v1/analytics/retirement-candidates" in rules
        if retirement_there:
            from portal.analytics import retirement

            calls.append(("retirement candidates (unused 90 d)", lambda: retirement.retirement_candidates(90)))
        calls.append(("usage counts of the 50 most used assets (a page of the library or search)",
                      lambda: stats_for(most_used)))

    client = app.test_client()
    response = client.post("/api/v1/tokens", json={"email": "user1@bench.example", "password": PASSWORD})
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    headers = {"Authorization": f"Bearer {response.get_json()['token']}"}
    response = client.post("/login", data={"email": "user1@bench.example", "password": PASSWORD})
    assert response.status_code == 302, "login failed"
    urls = [f"/api/v1/analytics/overview?days={d}" for d in (30, 90, 365)]
    urls += [f"/api/v1/analytics/assets?days={d}" for d in (30, 90, 365)]
    since, until = awkward_year(datetime.now(UTC).date())
    urls += [f"/api/v1/analytics/assets?since={since}&until={until}",
             "/api/v1/analytics/assets?days=90&sort=uses&per_page=100&page=3",
             "/api/v1/analytics/leaderboards?days=90", "/api/v1/analytics/leaderboards?days=365",
             f"/api/v1/analytics/assets/{popular}?days=90", f"/api/v1/analytics/assets/{popular}?days=365",
             "/api/v1/analytics/search-gaps?days=90", "/api/v1/analytics/unclicked-searches?days=90",
             f"/api/v1/assets/{popular}"]
    pages = [f"/analytics/?days={d}" for d in (30, 90, 365)]
    pages += ["/analytics/content?days=30", "/analytics/content?days=90", "/analytics/content?days=365",
              f"/analytics/content?since={since}&until={until}",
              f"/analytics/assets/{popular}?days=90", f"/analytics/assets/{popular}?days=365",
              "/analytics/search-gaps?days=90", "/analytics/export/assets.csv?days=90",
              "/analytics/export/assets.csv?days=365", "/analytics/export/overview.csv?days=365",
              f"/analytics/assets/{popular}/usage.csv?days=365"]
    if retirement_there:
        urls.append("/api/v1/analytics/retirement-candidates?unused_days=90")
        pages.append("/analytics/retirement")
    else:
        print("  (no retirement views in this build: not timed)")

    def time_calls(suffix: str) -> None:
        with app.app_context():
            for name, call in calls:
                def run(call=call):
                    call()
                    db.session.rollback()  # a request ends its session; do not let the identity map warm up

                median, worst = timed(run)
                add(f"in process: {name}{suffix}", median, worst, TARGET_MS)
        for url in urls + pages:
            def get(url=url):
                response = client.get(url, headers=headers if url.startswith("/api/") else {})
                assert response.status_code == 200, (url, response.status_code)

            median, worst = timed(get)
            add(f"GET {url}{suffix}", median, worst, TARGET_MS)

    time_calls("")
    with app.app_context():
        added_events, added_reports = fall_behind(day)
        print(f"  a day behind: {added_events:,} events and {added_reports:,} reported uses (backdated to {day}) "
              "recorded since the watermark", flush=True)
        behind = f" [a day behind: {added_events:,} + {added_reports} uses since the watermark]"
    time_calls(" [a day behind]")
    with app.app_context():
        midnight = datetime.combine(datetime.now(UTC).date(), datetime.min.time())
        rollup_job(f"queue job{behind}", prepare=lambda: rewind(midnight, [day]))
        catch_up(day)


def build_app(kind: str, data_dir: str, pg_url: str):
    from portal import create_app
    from portal.config import load_settings

    env = {"PORTAL_DATA_DIR": data_dir, "PORTAL_QUEUE": "immediate"}
    if kind == "postgresql":
        ensure_pg_database(pg_url)
        env["DATABASE_URL"] = pg_url
    return create_app(load_settings(env), START_EMBEDDED_WORKER=False, AUTO_MIGRATE=False,
                      WTF_CSRF_ENABLED=False)


def print_table(figures: list[Figure], sizes: dict[str, dict]) -> None:
    print(f"\nMachine: {machine()}")
    for database in dict.fromkeys(f.database for f in figures):
        print(f"\n{database}: {describe(sizes[database])}")
        print(f"{'figure':<72} {'median':>11} {'max':>11}  {'target':<12} result")
        for f in (f for f in figures if f.database == database):
            worst = f"{f.max_ms:>8,.0f} ms" if f.max_ms is not None else ""
            target = f"< {f.target_ms:,.0f} ms" if f.target_ms else "-"
            print(f"{f.name:<72} {f.median_ms:>8,.0f} ms {worst:>11}  {target:<12} {f.verdict} {f.note}".rstrip())
        judged = [f for f in figures if f.database == database and f.target_ms]
        missed = [f for f in judged if f.verdict == "MISSED"]
        print(f"{len(judged) - len(missed)} of {len(judged)} targets met"
              + ("" if database == "postgresql" else " (the targets are set for PostgreSQL; shown for comparison)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--events", type=int, default=FULL_SIZE)
    parser.add_argument("--reuse", action="store_true",
                        help="skip generation when the database already holds that many events")
    parser.add_argument("--no-rebuild", action="store_true",
                        help="do not time the full rollup rebuild when rollups already exist")
    parser.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "collateral-bench-analytics"),
                        help="where the SQLite database and the app's data directory go")
    parser.add_argument("--pg-url", default=PG_URL, help="a database of its own: the bench drops its schema")
    args = parser.parse_args()
    print(f"Machine: {machine()}", flush=True)
    figures: list[Figure] = []
    sizes: dict[str, dict] = {}
    for kind in (["postgresql", "sqlite"] if args.db == "both" else [args.db]):
        data_dir = os.path.join(args.dir, kind)
        os.makedirs(data_dir, exist_ok=True)
        app = build_app(kind, data_dir, args.pg_url)
        present = dataset(app)
        reused = args.reuse and (present["events"], present.get("users"), present.get("assets")) == (
            args.events, USERS, ASSETS)
        if reused:
            print(f"\n{kind}: reusing {present['events']:,} events", flush=True)
            with app.app_context():  # indexes added since the data was generated
                from portal.database import upgrade

                upgrade()
        else:
            if kind == "sqlite":  # start from an empty file
                with app.app_context():
                    from portal.extensions import db

                    db.engine.dispose()
                for suffix in ("", "-wal", "-shm"):
                    Path(data_dir, "portal.db" + suffix).unlink(missing_ok=True)
            print(f"\n{kind}: generating {USERS} users, {ASSETS:,} assets, {args.events:,} events", flush=True)
            began = time.perf_counter()
            reset_schema(app)
            generate(app, args.events)
            print(f"  generated in {time.perf_counter() - began:.0f} s", flush=True)
        sizes[kind] = dataset(app)
        print(f"  {describe(sizes[kind])}", flush=True)
        measure(app, kind, figures, skip_rebuild=args.no_rebuild)
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()
    print_table(figures, sizes)


if __name__ == "__main__":
    main()
