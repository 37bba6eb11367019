"""Share links under load, on loopback: gunicorn (portal/gunicorn_conf.py) + PostgreSQL.

    .venv/bin/python bench/bench_shares.py                    # the figures of bench/README.md
    .venv/bin/python bench/bench_shares.py --seconds 10 --links 1000 --events 100000   # a quick look

1. Beacon ingestion through gunicorn: buyers' visits (opened through the buyer page,
   each with its visit cookie) send beacons of `--pages-per-beacon` page entries
   from `--clients` threads for `--seconds`; events in (entries of beacons answered
   204) are compared with events stored (the `views` summed over share_page_views).
   Beside it, the storing step alone with the same events from the same threads
   straight to PostgreSQL: the portal's way (one upsert per beacon into one row per
   visit and page) against the naive way (one INSERT per event into a table of
   events), with the rows and bytes each leaves behind.
2. The rep's link pages with `--links` links (one rep's) and `--events` page-view
   events (`--visits-per-link` visits each, one share_page_views row per event),
   inserted with SQL: p50/p95 of GET /shares (the list page, random pages of it),
   GET /shares/{id} (a link's visits and pages, HTML) and GET /api/v1/shares/{id}.

Uses bench_load.py's Stack (a fresh database, redis-server, gunicorn, a worker).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_load import PASSWORD, Stack, percentile, wait_drained  # noqa: E402

from assets.sample_files import make_pdf  # noqa: E402

PAGES = 20


def engine(stack: Stack):
    from sqlalchemy import create_engine

    return create_engine(stack.url, pool_size=32, max_overflow=0)


def signed_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    form = session.get(base + "/login").text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', form).group(1)
    response = session.post(base + "/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf})
    assert response.ok and "/login" not in response.url, response.status_code
    return session


def api_token(base: str, email: str) -> str:
    response = requests.post(base + "/api/v1/tokens", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return response.json()["token"]


def setup(stack: Stack, base: str) -> tuple[str, int]:
    """A marketer's processed PDF of PAGES pages; returns the rep's token and the asset id."""
    stack.flask("create-user", "marketer@bench.example", "--role", "marketer", "--password", PASSWORD)
    stack.flask("create-user", "rep@bench.example", "--role", "rep", "--password", PASSWORD, "--name", "Bench Rep")
    marketer = api_token(base, "marketer@bench.example")
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(make_pdf(f"{tmp}/pricing.pdf", [{"title": f"Page {n}", "lines": [f"pricing {n}"]}
                                                     for n in range(1, PAGES + 1)])).read_bytes()
    response = requests.post(base + "/api/v1/assets", headers={"Authorization": f"Bearer {marketer}"},
                             files={"file": ("pricing.pdf", pdf, "application/pdf")}, data={"title": "Pricing guide"})
    assert response.status_code == 201, response.text
    assert wait_drained(stack, timeout=600)
    return api_token(base, "rep@bench.example"), response.json()["id"]


# --- 1. beacons ----------------------------------------------------------------------------

def open_visits(base: str, rep: str, asset_id: int, links: int, visits_per_link: int) -> list[tuple[str, str]]:
    """(beacon URL, visit cookie) of fresh visits, each opened through the buyer page."""
    found = []
    for n in range(links):
        made = requests.post(base + "/api/v1/shares", json={"asset_id": asset_id, "notify": n == 0},
                             headers={"Authorization": f"Bearer {rep}"})
        assert made.status_code == 201, made.text
        url = made.json()["url"]
        for m in range(visits_per_link):
            buyer = requests.Session()
            buyer.headers["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120 Safari/537.36"
            buyer.headers["X-Forwarded-For"] = f"10.0.{n}.{m}"
            assert buyer.get(url).status_code == 200
            found.append((url + "/beacon", buyer.cookies.get("share_visit")))
    return found


def beacon_bodies(pages_per_beacon: int) -> list[bytes]:
    bodies = []
    for _ in range(50):
        numbers = random.sample(range(1, PAGES + 1), pages_per_beacon)
        bodies.append(json.dumps({"pages": [{"number": n, "seconds": round(random.uniform(0.5, 4), 1)}
                                            for n in numbers]}).encode())
    return bodies


def send_beacons(visits: list[tuple[str, str]], clients: int, seconds: float, pages_per_beacon: int):
    sent = {"events": 0, "beacons": 0, "errors": 0, "statuses": {}}
    latencies: list[float] = []
    lock = threading.Lock()
    bodies = beacon_bodies(pages_per_beacon)
    stop_at = time.monotonic() + seconds

    def client(index: int) -> None:
        session = requests.Session()
        mine = visits[index::clients]
        n = 0
        while time.monotonic() < stop_at:
            url, cookie = mine[n % len(mine)]
            n += 1
            started = time.perf_counter()
            try:
                response = session.post(url, data=random.choice(bodies), cookies={"share_visit": cookie},
                                        headers={"Content-Type": "text/plain;charset=UTF-8"})
                status = response.status_code
            except requests.RequestException:
                status = 0
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                sent["statuses"][status] = sent["statuses"].get(status, 0) + 1
                if status == 204:
                    sent["beacons"] += 1
                    sent["events"] += pages_per_beacon
                elif status == 0 or status >= 500:
                    sent["errors"] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent, latencies, time.monotonic() - started


def store_side_by_side(stack: Stack, clients: int, beacons: int, pages_per_beacon: int) -> dict:
    """The storing step alone: the portal's upsert per beacon vs one INSERT per event."""
    from sqlalchemy import text

    db = engine(stack)
    with db.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS bench_naive_page_events (id bigserial PRIMARY KEY, "
                                "visit_id bigint NOT NULL, number int NOT NULL, seconds real NOT NULL, "
                                "occurred_at timestamp NOT NULL DEFAULT now())"))
        connection.execute(text("CREATE INDEX IF NOT EXISTS ix_bench_naive_visit ON bench_naive_page_events (visit_id)"))
        visit_ids = [row[0] for row in connection.execute(text("SELECT id FROM share_visits"))]
        connection.execute(text("CREATE TABLE bench_upsert_views (LIKE share_page_views INCLUDING ALL)"))
    bodies = [[(n, round(random.uniform(0.5, 4), 1)) for n in random.sample(range(1, PAGES + 1), pages_per_beacon)]
              for _ in range(50)]
    upsert = text("INSERT INTO bench_upsert_views (visit_id, number, asset_id, page_number, seconds, views) "
                  "VALUES (:visit_id, :number, NULL, :number, :seconds, 1) ON CONFLICT (visit_id, number) DO UPDATE "
                  "SET seconds = bench_upsert_views.seconds + excluded.seconds, "
                  "views = bench_upsert_views.views + excluded.views")
    naive = text("INSERT INTO bench_naive_page_events (visit_id, number, seconds) VALUES (:visit_id, :number, :seconds)")
    results = {}
    for name in ("naive", "upsert"):
        counter = iter(range(beacons))
        lock = threading.Lock()

        def work(name=name, counter=counter, lock=lock) -> None:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                visit = visit_ids[n % len(visit_ids)]
                entries = bodies[n % len(bodies)]
                with db.begin() as connection:
                    if name == "naive":
                        for number, seconds in entries:  # one row, one statement per event
                            connection.execute(naive, {"visit_id": visit, "number": number, "seconds": seconds})
                    else:  # one statement per beacon (as visits.record_beacon: a multi-row upsert)
                        connection.execute(upsert, [{"visit_id": visit, "number": number, "seconds": int(seconds)}
                                                    for number, seconds in sorted(entries)])

        threads = [threading.Thread(target=work) for _ in range(clients)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        table = "bench_naive_page_events" if name == "naive" else "bench_upsert_views"
        with db.connect() as connection:
            rows = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            events = connection.execute(text("SELECT count(*) FROM bench_naive_page_events" if name == "naive"
                                             else "SELECT coalesce(sum(views), 0) FROM bench_upsert_views")).scalar()
            size = connection.execute(text(f"SELECT pg_total_relation_size('{table}')")).scalar()
        results[name] = {"events_per_s": beacons * pages_per_beacon / elapsed, "rows": rows, "events": events,
                         "mib": size / 2**20}
    db.dispose()
    return results


# --- 2. the rep's link page ------------------------------------------------------------------

def fill(stack: Stack, asset_id: int, links: int, events: int, visits_per_link: int) -> None:
    """`links` links of the rep, `events` page views (one row each) over their visits, with SQL."""
    from sqlalchemy import text

    pages_per_visit = max(1, events // (links * visits_per_link))
    db = engine(stack)
    with db.begin() as connection:
        rep = connection.execute(text("SELECT id FROM users WHERE email = 'rep@bench.example'")).scalar()
        connection.execute(text(
            "INSERT INTO share_links (token_hash, owner_id, kind, asset_id, title, expires_on, require_email, "
            "allow_download, notify, account, opportunity, created_at, visits_count, last_visit_at) "
            "SELECT md5(random()::text || g) || md5(g::text), :rep, 'asset', :asset, 'Pricing guide', "
            "current_date + 30, g % 2 = 0, false, true, 'Account ' || (g % 500), 'Opp ' || g, "
            "now() - (g || ' minutes')::interval, :visits, now() - (g || ' seconds')::interval "
            "FROM generate_series(1, :links) AS g"), {"rep": rep, "asset": asset_id, "links": links,
                                                       "visits": visits_per_link})
        connection.execute(text(
            "INSERT INTO share_visits (link_id, key_hash, email, device, started_at, last_seen_at, downloaded, "
            "seconds, beacons) SELECT l.id, md5(random()::text || l.id || v) || md5(v::text || l.id), "
            "'buyer' || v || '@example.com', 'desktop', now() - (v || ' hours')::interval, now(), false, "
            ":pages * 3, 1 FROM share_links l CROSS JOIN generate_series(1, :visits) AS v "
            "WHERE l.owner_id = :rep AND l.title = 'Pricing guide' AND l.opportunity LIKE 'Opp %'"),
            {"rep": rep, "visits": visits_per_link, "pages": pages_per_visit})
        connection.execute(text(
            "INSERT INTO share_page_views (visit_id, number, asset_id, page_number, seconds, views) "
            "SELECT s.id, p, :asset, p, 3, 1 FROM share_visits s JOIN share_links l ON l.id = s.link_id "
            "CROSS JOIN generate_series(1, :pages) AS p WHERE l.opportunity LIKE 'Opp %'"),
            {"asset": asset_id, "pages": pages_per_visit})
        connection.execute(text("ANALYZE"))
    db.dispose()


def time_pages(base: str, rep_token: str, rounds: int) -> dict[str, list[float]]:
    session = signed_in(base, "rep@bench.example")
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {rep_token}"
    total = api.get(base + "/api/v1/shares?per_page=1").json()["total"]
    ids = [item["id"] for item in api.get(base + "/api/v1/shares?per_page=100").json()["items"]]
    timings: dict[str, list[float]] = {"GET /shares (list page)": [], "GET /shares/{id} (visits, HTML)": [],
                                       "GET /api/v1/shares/{id}": []}
    pages = max(1, total // 50)
    for _ in range(rounds):
        for name, url, client in (
                ("GET /shares (list page)", f"/shares?page={random.randint(1, pages)}", session),
                ("GET /shares/{id} (visits, HTML)", f"/shares/{random.choice(ids)}", session),
                ("GET /api/v1/shares/{id}", f"/api/v1/shares/{random.choice(ids)}", api)):
            started = time.perf_counter()
            response = client.get(base + url)
            timings[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--pages-per-beacon", type=int, default=10)
    parser.add_argument("--beacon-links", type=int, default=20)
    parser.add_argument("--links", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--visits-per-link", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_shares")
    args = parser.parse_args()

    stack = Stack(args.database, args.web_workers)
    stack.env["TRUSTED_PROXIES"] = "1"  # each simulated buyer its own address (X-Forwarded-For)
    stack.env["SESSION_COOKIE_SECURE"] = "0"  # plain http on loopback: cookies without Secure
    stack.start()
    try:
        run(stack, args)
    finally:
        stack.stop()


def run(stack: Stack, args) -> None:
    from sqlalchemy import text

    base = f"http://127.0.0.1:{stack.web_port}"
    rep, asset_id = setup(stack, base)
    visits = open_visits(base, rep, asset_id, args.beacon_links, 10)
    sent, latencies, elapsed = send_beacons(visits, args.clients, args.seconds, args.pages_per_beacon)
    db = engine(stack)
    with db.connect() as connection:
        stored = connection.execute(text("SELECT coalesce(sum(views), 0) FROM share_page_views")).scalar()
        rows = connection.execute(text("SELECT count(*) FROM share_page_views")).scalar()
    db.dispose()
    print(f"beacons through gunicorn ({args.web_workers} gthread workers, PostgreSQL): {args.clients} clients, "
          f"{len(visits)} visits, {args.pages_per_beacon} page events per beacon, {elapsed:.1f} s")
    print(f"  beacons {sent['beacons']} ({sent['beacons'] / elapsed:.0f}/s), events {sent['events']} "
          f"({sent['events'] / elapsed:.0f}/s), errors {sent['errors']}, statuses {sent['statuses']}")
    print(f"  p50/p95 ms {percentile(latencies, 50):.1f} / {percentile(latencies, 95):.1f}")
    print(f"  events in {sent['events']}, events stored {stored} ({'equal' if stored == sent['events'] else 'DIFFER'}),"
          f" in {rows} rows (one per visit and page)")
    side = store_side_by_side(stack, args.clients, max(1000, sent["beacons"]), args.pages_per_beacon)
    for name, figures in side.items():
        print(f"  storing alone, {name:>6}: {figures['events_per_s']:.0f} events/s, {figures['events']} events in "
              f"{figures['rows']} rows, {figures['mib']:.1f} MiB")

    started = time.monotonic()
    fill(stack, asset_id, args.links, args.events, args.visits_per_link)
    db = engine(stack)
    with db.connect() as connection:
        links = connection.execute(text("SELECT count(*) FROM share_links")).scalar()
        events = connection.execute(text("SELECT coalesce(sum(views), 0) FROM share_page_views")).scalar()
        visits_n = connection.execute(text("SELECT count(*) FROM share_visits")).scalar()
    db.dispose()
    print(f"filled with SQL in {time.monotonic() - started:.0f} s: {links} links, {visits_n} visits, "
          f"{events} page-view events")
    timings = time_pages(base, rep, args.rounds)
    print(f"{'page':<34}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}")
    for name, values in timings.items():
        print(f"{name:<34}{len(values):>5}{percentile(values, 50):>9.1f}{percentile(values, 95):>9.1f}")


if __name__ == "__main__":
    main()
