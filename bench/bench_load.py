"""Load on loopback: gunicorn (portal/gunicorn_conf.py) + PostgreSQL + a Redis worker.

    .venv/bin/python bench/bench_load.py                      # 20 clients for 60 s
    .venv/bin/python bench/bench_load.py --clients 5 --seconds 10 --assets 10   # a quick look

Starts its own redis-server on a free loopback port, a gunicorn server and a
`flask --app portal worker`, on a fresh PostgreSQL database (`--database`, created
and dropped; default bench_load on 127.0.0.1:5432) and a temporary data directory.
Clients (threads, one keep-alive connection each, each with its own rep's token)
search, open items, download, rate, report uses, and a marketer uploads new
versions, for a bounded time. Then it waits for the queue to drain (the index
outbox empty, no version pending) and compares what the clients were told was
stored with what the database, the storage and the index hold. Prints requests,
errors (5xx and broken connections), p50/p95 per kind, the drain time, the web
workers' memory, and the counts compared. Sends traffic to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import psutil
import urllib3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assets.sample_files import make_pdf  # noqa: E402

WORDS = ["pricing", "healthcare", "security", "roi", "platform", "battlecard", "onboarding", "hospital",
         "integration", "compliance", "renewal", "discount", "workflow", "analytics", "migration"]
PASSWORD = "load-test-password-7Qx!"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on {port}")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Stack:
    """redis-server, gunicorn and a worker on a fresh database and data directory."""

    def __init__(self, database: str, workers: int):
        self.tmp = tempfile.TemporaryDirectory(prefix="collateral-load-")
        self.data = Path(self.tmp.name) / "data"
        self.data.mkdir()
        self.database = database
        self.admin_url = database.rsplit("/", 1)[0] + "/postgres"
        self.url = database
        self.redis_port, self.web_port = free_port(), free_port()
        self.env = {**os.environ, "PORTAL_DATA_DIR": str(self.data), "DATABASE_URL": self.url,
                    "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0", "SECRET_KEY": "load-test",
                    "PORTAL_QUEUE_NAME": "collateral-load", "PYTHONPATH": str(ROOT),
                    "SEARCHES_PER_MINUTE": "100000"}  # clients search far faster than a rep
        self.workers = workers
        self.processes: list[subprocess.Popen] = []

    def _psql(self, sql: str) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(sql))
        engine.dispose()

    def _spawn(self, *args: str, log: str) -> subprocess.Popen:
        out = open(Path(self.tmp.name) / log, "w")
        process = subprocess.Popen(list(args), env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append(process)
        return process

    def flask(self, *args: str) -> None:
        subprocess.run([str(Path(sys.executable).with_name("flask")), "--app", "portal", *args], env=self.env,
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        name = self.url.rsplit("/", 1)[1]
        self._psql(f"DROP DATABASE IF EXISTS {name}")
        self._psql(f"CREATE DATABASE {name}")
        self._spawn("redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", log="redis.log")
        wait_port(self.redis_port)
        self.flask("db", "upgrade")
        bin_dir = Path(sys.executable).parent
        self.web = self._spawn(str(bin_dir / "gunicorn"), "-c", "python:portal.gunicorn_conf", "-w",
                               str(self.workers), "-b", f"127.0.0.1:{self.web_port}", "--access-logfile",
                               "/dev/null", "portal:create_app()", log="gunicorn.log")
        self.worker = self._spawn(str(bin_dir / "flask"), "--app", "portal", "worker", "--workers", "2",
                                  log="worker.log")
        wait_port(self.web_port)

    def web_rss_mib(self) -> list[float]:
        children = psutil.Process(self.web.pid).children()
        return [round(child.memory_info().rss / 2**20, 1) for child in children]

    def stop(self) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        try:
            self._psql(f"DROP DATABASE IF EXISTS {self.url.rsplit('/', 1)[1]}")
        finally:
            self.tmp.cleanup()


class Client(threading.Thread):
    def __init__(self, base: str, token: str, asset_ids: list[int], stop_at: float, results, lock,
                 marketer_token: str | None, pdf: bytes):
        super().__init__(daemon=True)
        self.base, self.stop_at, self.results, self.lock = base, stop_at, results, lock
        self.headers = {"Authorization": f"Bearer {token}"}
        self.marketer = {"Authorization": f"Bearer {marketer_token}"} if marketer_token else None
        self.asset_ids = asset_ids
        self.pool = urllib3.PoolManager(maxsize=1, retries=False, timeout=urllib3.Timeout(connect=5, read=60))
        self.random = random.Random(hash(token))
        self.pdf = pdf
        self.stored = defaultdict(int)

    def call(self, kind: str, method: str, path: str, **kwargs) -> urllib3.BaseHTTPResponse | None:
        started = time.perf_counter()
        try:
            response = self.pool.request(method, self.base + path, **kwargs)
            status = response.status
        except Exception:  # a broken connection counts as an error
            response, status = None, 599
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.results[kind].append((status, elapsed))
        return response

    def run(self) -> None:
        while time.monotonic() < self.stop_at:
            asset_id = self.random.choice(self.asset_ids)
            roll = self.random.random()
            if self.marketer and roll < 0.05:
                fields = {"file": (f"v{self.random.randrange(10**9)}.pdf", self.pdf + os.urandom(16),
                                   "application/pdf")}
                response = self.call("upload version", "POST", f"/api/v1/assets/{asset_id}/versions",
                                     fields=fields, headers=self.marketer)
                if response is not None and response.status == 201:
                    self.stored["versions"] += 1
            elif roll < 0.45:
                query = " ".join(self.random.sample(WORDS, self.random.choice((1, 2))))
                self.call("search", "GET", "/api/v1/search", fields={"q": query}, headers=self.headers)
            elif roll < 0.65:
                self.call("open item", "GET", f"/api/v1/assets/{asset_id}", headers=self.headers)
            elif roll < 0.75:
                self.call("download", "GET", f"/api/v1/assets/{asset_id}/download", headers=self.headers,
                          redirect=False)
            elif roll < 0.87:
                body = json.dumps({"stars": self.random.randint(1, 5), "comment": "load"})
                response = self.call("rate", "PUT", f"/api/v1/assets/{asset_id}/rating", body=body,
                                     headers={**self.headers, "Content-Type": "application/json"})
                if response is not None and response.status in (200, 201):
                    self.stored[("rating", asset_id)] = 1
            else:
                body = json.dumps({"kind": "presented", "account": "Acme", "outcome": "open"})
                response = self.call("report use", "POST", f"/api/v1/assets/{asset_id}/usage", body=body,
                                     headers={**self.headers, "Content-Type": "application/json"})
                if response is not None and response.status == 201:
                    self.stored["uses"] += 1


def token(pool: urllib3.PoolManager, base: str, email: str) -> str:
    response = pool.request("POST", base + "/api/v1/tokens", body=json.dumps({"email": email, "password": PASSWORD}),
                            headers={"Content-Type": "application/json"})
    assert response.status == 201, response.data
    return response.json()["token"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--assets", type=int, default=40)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_load")
    args = parser.parse_args()

    stack = Stack(args.database, args.web_workers)
    stack.start()
    try:
        run(stack, args)
    finally:
        stack.stop()


def run(stack: Stack, args) -> None:
    base = f"http://127.0.0.1:{stack.web_port}"
    stack.flask("create-user", "marketer@load.example", "--role", "marketer", "--password", PASSWORD)
    reps = [f"rep{n}@load.example" for n in range(args.clients)]
    for email in reps:
        stack.flask("create-user", email, "--role", "rep", "--password", PASSWORD)
    pool = urllib3.PoolManager()
    marketer = token(pool, base, "marketer@load.example")
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(make_pdf(f"{tmp}/seed.pdf", [{"title": "Pricing for hospitals",
                                                  "lines": [" ".join(WORDS)] * 3}])).read_bytes()
    asset_ids = []
    for n in range(args.assets):
        words = " ".join(random.sample(WORDS, 3))
        response = pool.request("POST", base + "/api/v1/assets", headers={"Authorization": f"Bearer {marketer}"},
                                fields={"file": (f"seed{n}.pdf", pdf + str(n).encode(), "application/pdf"),
                                        "title": f"Seed {n} {words}", "allow_duplicate": "true"})
        assert response.status == 201, response.data
        asset_ids.append(response.json()["id"])
    wait_drained(stack, timeout=600)
    rss_before = stack.web_rss_mib()

    tokens = [token(pool, base, email) for email in reps]
    results: dict[str, list[tuple[int, float]]] = defaultdict(list)
    lock = threading.Lock()
    stop_at = time.monotonic() + args.seconds
    clients = [Client(base, tokens[n], asset_ids, stop_at, results, lock, marketer if n == 0 else None, pdf)
               for n in range(args.clients)]
    started = time.monotonic()
    for client in clients:
        client.start()
    for client in clients:
        client.join(args.seconds + 120)
    load_seconds = time.monotonic() - started
    rss_after = stack.web_rss_mib()
    drain_started = time.monotonic()
    drained = wait_drained(stack, timeout=1800)
    drain_seconds = time.monotonic() - drain_started

    total = sum(len(v) for v in results.values())
    errors = sum(1 for v in results.values() for status, _ in v if status >= 500)
    print(f"load: {args.clients} clients for {args.seconds:.0f} s ({load_seconds:.1f} s with the last replies), "
          f"{args.web_workers} gunicorn workers (gthread), PostgreSQL, a Redis worker (quick lane 1 thread, slow lane 2)")
    print(f"requests: {total} ({total / load_seconds:.0f}/s), errors (5xx or broken): {errors}, "
          f"429: {sum(1 for v in results.values() for s, _ in v if s == 429)}")
    print(f"{'kind':<16}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'5xx':>6}")
    for kind, values in sorted(results.items()):
        times = [ms for _, ms in values]
        print(f"{kind:<16}{len(values):>7}{percentile(times, 50):>9.1f}{percentile(times, 95):>9.1f}"
              f"{sum(1 for s, _ in values if s >= 500):>6}")
    print(f"queue drained in {drain_seconds:.1f} s after the load" if drained else
          f"queue NOT drained after {drain_seconds:.0f} s")
    print(f"web worker RSS MiB before {rss_before} after {rss_after}")
    check_counts(stack, clients, asset_ids)


def _scalar(stack: Stack, sql: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.url)
    with engine.connect() as connection:
        value = connection.execute(text(sql)).scalar()
    engine.dispose()
    return int(value or 0)


def wait_drained(stack: Stack, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = _scalar(stack, "SELECT count(*) FROM asset_versions WHERE processing = 'pending'")
        outbox = _scalar(stack, "SELECT count(*) FROM index_outbox")
        if pending == 0 and outbox == 0:
            return True
        time.sleep(0.5)
    return False


def check_counts(stack: Stack, clients: list[Client], asset_ids: list[int]) -> None:
    told_versions = sum(c.stored["versions"] for c in clients)
    told_uses = sum(c.stored["uses"] for c in clients)
    told_ratings = sum(v for c in clients for k, v in c.stored.items() if isinstance(k, tuple))
    versions = _scalar(stack, "SELECT count(*) FROM asset_versions") - len(asset_ids)
    uses = _scalar(stack, "SELECT count(*) FROM reported_uses")
    ratings = _scalar(stack, "SELECT count(*) FROM ratings")
    stored_files = sum(1 for path in (stack.data / "files").rglob("*") if path.is_file()
                       and "thumbnails" not in path.parts) if (stack.data / "files").exists() else -1
    version_rows = _scalar(stack, "SELECT count(*) FROM asset_versions")
    check = subprocess.run([str(Path(sys.executable).with_name("flask")), "--app", "portal", "index-check"],
                           env=stack.env, cwd=ROOT, capture_output=True, text=True)
    print("nothing lost: the clients were told / the database holds")
    print(f"  new versions {told_versions} / {versions}; reported uses {told_uses} / {uses}; "
          f"ratings (one per rep and item) {told_ratings} / {ratings}")
    print(f"  stored files {stored_files} for {version_rows} versions")
    print(f"  index-check: {' '.join(check.stdout.split())} (exit {check.returncode})")


if __name__ == "__main__":
    main()
