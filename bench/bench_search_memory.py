"""Memory of a web process under concurrent searches, index opened with and without
memory maps, side by side in the same run (issue 13, item 10).

    .venv/bin/python bench/bench_search_memory.py                     # 2,500 assets, 50,000 pages
    .venv/bin/python bench/bench_search_memory.py --dir DIR --reuse   # an index and database built before

Builds a synthetic corpus (bench_search.py's) into an index and an SQLite database,
then for each variant starts gunicorn (portal/gunicorn_conf.py, one worker, 8 threads)
on it and measures the worker's RSS, PSS and USS (private) memory: after start, after
one search, and at the peak and end of 8 clients searching at once (a fixed mix of
asset and slide searches, `--rounds` each). The variants:

- `mmap`: the index opened as before the change (Whoosh's FileStorage with memory maps);
- `no-mmap`: as the portal opens it now (search/generations.py, `supports_mmap=False`).

The variant is chosen in the server by BENCH_INDEX_MMAP (this module's `app_factory`
swaps search.generations.open_index for the mmap one); nothing else differs.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.support.servers import stop_server  # noqa: E402

PASSWORD = "bench-password-7Qx!"
QUERIES = [("/search", "pricing"), ("/search", "security compliance"), ("/search", '"pricing healthcare"'),
           ("/search/pages", "hipaa"), ("/search", "onboarding rollout"), ("/search/pages", "payback"),
           ("/search", "roi"), ("/search/pages", '"patient care"')]


def app_factory():
    """The app gunicorn serves: the index opened with memory maps when BENCH_INDEX_MMAP=1."""
    if os.environ.get("BENCH_INDEX_MMAP") == "1":
        from whoosh.filedb.filestore import FileStorage

        import search.generations

        search.generations.open_index = lambda path, name: FileStorage(path, supports_mmap=True).open_index(name)
    from portal import create_app

    return create_app()


def build(directory: Path, assets: int, pages: int) -> None:
    from bench_search import corpus, load_rows

    from portal import create_app
    from portal.admin.services import save_user
    from portal.config import load_settings
    from search.index import SearchIndex

    index = SearchIndex(str(directory / "index"))
    index.ensure()
    started = time.perf_counter()
    index.rebuild(corpus(assets, pages), total=assets)
    print(f"index built in {time.perf_counter() - started:.0f} s: {index.doc_counts()}", flush=True)
    settings = load_settings({"PORTAL_DATA_DIR": str(directory), "PORTAL_QUEUE": "immediate", "SECRET_KEY": "bench"})
    app = create_app(settings, START_EMBEDDED_WORKER=False)
    with app.app_context():
        owner, _ = save_user("bench@example.com", role="rep", password=PASSWORD)
        owner_id = owner.id
    load_rows(app, assets, pages, owner_id)
    print("database rows loaded", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory(process: psutil.Process) -> dict[str, float]:
    info = process.memory_full_info()
    return {"rss": info.rss / 2**20, "pss": info.pss / 2**20, "uss": info.uss / 2**20}


def index_size(directory: Path) -> float:
    return sum(f.stat().st_size for f in (directory / "index").rglob("*") if f.is_file()) / 2**20


def run_variant(directory: Path, mmap: bool, clients: int, rounds: int) -> dict:
    port = free_port()
    env = {**os.environ, "PORTAL_DATA_DIR": str(directory), "SECRET_KEY": "bench", "PORTAL_QUEUE": "embedded",
           "WEB_CONCURRENCY": "1", "PORTAL_THREADS": str(clients), "SEARCHES_PER_MINUTE": "1000000",
           "BENCH_INDEX_MMAP": "1" if mmap else "0", "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}"}
    log = open(directory / f"gunicorn-{'mmap' if mmap else 'nommap'}.log", "w+")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "python:portal.gunicorn_conf", "-b",
         f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "bench_search_memory:app_factory()"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                body = json.dumps({"email": "bench@example.com", "password": PASSWORD}).encode()
                request = urllib.request.Request(f"{base}/tokens", data=body,
                                                 headers={"Content-Type": "application/json"})
                token = json.load(urllib.request.urlopen(request, timeout=30))["token"]
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise SystemExit("gunicorn did not start:\n" + log.read()[-3000:]) from None
                time.sleep(0.5)
        worker = psutil.Process(server.pid).children()[0]
        headers = {"Authorization": f"Bearer {token}"}

        hits: list[int] = []

        def search(path: str, query: str) -> None:
            url = f"{base}{path}?{urllib.parse.urlencode({'q': query, 'per_page': 20})}"
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=120) as response:
                hits.append(json.load(response)["total"])

        figures = {"started": memory(worker)}
        search("/search", "pricing")
        figures["one search"] = memory(worker)
        peak = dict(figures["one search"])
        errors: list[str] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                for key, value in memory(worker).items():
                    peak[key] = max(peak[key], value)
                time.sleep(0.1)

        def client(n: int) -> None:
            try:
                for r in range(rounds):
                    path, query = QUERIES[(n + r) % len(QUERIES)]
                    search(path, query)
            except Exception as error:  # reported, not hidden
                errors.append(repr(error))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        stop.set()
        sampler.join()
        figures[f"peak, {clients} at once"] = peak
        figures[f"after {clients} at once"] = memory(worker)
        return {"figures": figures, "errors": errors, "searches": len(hits) - 1, "seconds": elapsed,
                "hits": sum(hits[1:])}
    finally:
        stop_server(server, log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=2_500)
    parser.add_argument("--pages", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10, help="searches per client")
    parser.add_argument("--dir", default=None, help="data directory (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="use the index and database already in --dir")
    args = parser.parse_args()

    directory = Path(args.dir or tempfile.mkdtemp(prefix="bench-memory-"))
    directory.mkdir(parents=True, exist_ok=True)
    if not (args.reuse and (directory / "portal.db").exists()):
        build(directory, args.assets, args.pages)
    print(f"index: {index_size(directory):.0f} MiB in {directory / 'index'}")
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    results = {}
    for mmap in (True, False, True, False):  # twice each, interleaved
        name = "mmap (before)" if mmap else "no-mmap (now)"
        result = run_variant(directory, mmap, args.clients, args.rounds)
        results.setdefault(name, []).append(result)
        print(f"\n{name}: {result['searches']} searches ({result['hits']:,} hits in all) in "
              f"{result['seconds']:.1f} s, {len(result['errors'])} errors {result['errors'][:3]}")
        for moment, values in result["figures"].items():
            print(f"  {moment:24} RSS {values['rss']:7.0f}  PSS {values['pss']:7.0f}  USS {values['uss']:7.0f} MiB")
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


if __name__ == "__main__":
    main()
