"""Search benchmark: a synthetic corpus built through the project's own indexing
code, then query latency for a fixed mix, in-process and through HTTP.

    .venv/bin/python bench/bench_search.py                 # 10,000 assets, 200,000 pages
    .venv/bin/python bench/bench_search.py --assets 1000 --pages 20000 --http

Prints indexing throughput, peak RSS of the rebuild, and p50/p95/p99 per query kind.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta

import psutil

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from search.documents import AssetDocument, PageDocument  # noqa: E402
from search.index import SearchIndex  # noqa: E402

SALES_WORDS = """pricing healthcare hospital clinic security compliance onboarding roi payback
integration platform analytics dashboard workflow automation enterprise midmarket renewal discount
contract procurement cfo cio ciso champion objection competitor battlecard case study datasheet
implementation migration cloud data privacy hipaa gdpr soc encryption single sign identity access
pipeline forecast quota territory partner reseller channel marketplace subscription tier seat bed
license support success adoption training rollout pilot proof value benchmark savings revenue cost
efficiency risk audit governance reporting insight patient care network regional global emea apac
americas retail finance insurance manufacturing logistics education government public sector""".split()
PRODUCTS = ["Care Platform", "Northwind Platform", "Insights", "Connect", "Secure"]
REGIONS = ["North America", "EMEA", "APAC", "LATAM", "Global"]
STAGES = ["awareness", "discovery", "evaluation", "proposal", "negotiation"]
TYPES = ["deck", "case_study", "datasheet", "battlecard", "one_pager", "price_sheet"]
PERSONAS = ["CFO", "CIO", "CISO", "Procurement", "Sales rep"]
TAGS = ["pricing", "healthcare", "security", "roi", "competitive", "onboarding", "emea", "partner"]


class Vocabulary:
    """Zipf-like words: a few very common, a long tail of rare ones."""

    def __init__(self, rng: random.Random, size: int = 4000):
        syllables = ["ka", "lo", "mi", "ne", "ra", "to", "vi", "su", "de", "po", "an", "el", "or", "is"]
        tail = {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(size * 2)}
        self.words = SALES_WORDS + sorted(tail)[: size - len(SALES_WORDS)]
        weights = [1 / (rank + 1) ** 1.05 for rank in range(len(self.words))]
        self.cumulative = list(_accumulate(weights))
        self.rng = rng

    def text(self, count: int) -> str:
        return " ".join(self.rng.choices(self.words, cum_weights=self.cumulative, k=count))


def _accumulate(values):
    total = 0.0
    for value in values:
        total += value
        yield total


def corpus(assets: int, pages: int, seed: int = 7, batch: int = 500):
    rng = random.Random(seed)
    words = Vocabulary(rng)
    pages_per_asset = max(1, pages // assets)
    base = datetime(2026, 1, 1)
    for start in range(0, assets, batch):
        items = []
        for asset_id in range(start + 1, min(assets, start + batch) + 1):
            tags = rng.sample(TAGS, rng.randint(1, 3))
            facets = dict(content_type=rng.choice(TYPES), product=rng.choice(PRODUCTS), stage=rng.choice(STAGES),
                          region=rng.choice(REGIONS), persona=rng.choice(PERSONAS))
            title = words.text(rng.randint(3, 7)).title()
            rating = round(rng.uniform(1, 5), 2) if rng.random() < 0.7 else None
            usage = int(rng.paretovariate(1.2)) - 1
            updated = base + timedelta(minutes=asset_id)
            page_docs = [
                PageDocument(page_id=asset_id * 1000 + n, asset_id=asset_id, number=n, title=words.text(5).title(),
                             text=words.text(rng.randint(30, 90)), notes=words.text(15) if n % 3 == 0 else "",
                             asset_title=title, tags=tags, rating_average=rating, usage_count=usage,
                             updated_at=updated, **facets)
                for n in range(1, pages_per_asset + 1)
            ]
            text = "\n".join(p.title + "\n" + p.text for p in page_docs)
            items.append((AssetDocument(
                asset_id=asset_id, title=title, description=words.text(25), tags=tags, owner="Morgan Marketer",
                text=text, status="published" if rng.random() > 0.05 else "retired", expires_on=None,
                rating_average=rating, usage_count=usage, updated_at=updated,
                **facets), page_docs))
        yield items


QUERY_MIX = {
    "1-word": [("pricing", {}), ("security", {}), ("onboarding", {}), ("hipaa", {}), ("renewal", {})],
    "2-word": [("pricing healthcare", {}), ("security compliance", {}), ("roi payback", {}),
               ("partner channel", {}), ("cloud migration", {})],
    "phrase": [('"pricing healthcare"', {}), ('"single sign"', {}), ('"case study"', {}),
               ('"data privacy"', {}), ('"proof value"', {})],
    "faceted": [("pricing", {"region": "EMEA"}), ("security", {"content_type": "datasheet", "product": "Secure"}),
                ("", {"tag": "healthcare", "stage": "proposal"}), ("roi", {"persona": "CFO"}),
                ("onboarding", {"product": "Care Platform", "tag": "onboarding"})],
}
PAGE_QUERIES = [("pricing", {}), ("security compliance", {}), ('"patient care"', {}), ("hipaa", {"region": "APAC"}),
                ("payback", {})]


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def pick(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

    return f"p50 {pick(50):6.1f} ms  p95 {pick(95):6.1f} ms  p99 {pick(99):6.1f} ms  (n={len(ordered)})"


def measure(run, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return samples


def first_queries(index: SearchIndex) -> None:
    """Opening the searchers and reading each segment's columns happens once per
    process and once per new segment; it is reported apart from query latency."""
    started = time.perf_counter()
    index.search_assets("pricing")
    index.search_pages("pricing")
    print(f"First queries (open searchers, read per-segment columns): {time.perf_counter() - started:.2f} s")


def in_process(index: SearchIndex, rounds: int) -> None:
    """Each kind twice: cold, with every posting list read from disk (the cache
    emptied before each query), and warm, as the same words come back."""
    cold_rounds = max(1, rounds // 5)
    kinds = [(kind, index.search_assets, queries) for kind, queries in QUERY_MIX.items()]
    kinds.append(("pages", index.search_pages, PAGE_QUERIES))
    print("\nIn-process query latency, cold (postings read from disk) and warm")
    for kind, search, queries in kinds:
        cold, warm = [], []
        for text, filters in queries:
            for _ in range(cold_rounds):
                index.drop_cached_postings()
                cold += measure(lambda s=search, t=text, f=filters: s(t, filters=f), 1)
            warm += measure(lambda s=search, t=text, f=filters: s(t, filters=f), rounds)
        print(f"  {kind:8} cold {percentiles(cold)}")
        print(f"  {'':8} warm {percentiles(warm)}")


def load_rows(app, assets: int, pages: int, owner_id: int) -> None:
    """The corpus as database rows (assets, versions, pages, tags) with the index's
    ids, so the API loads, checks and highlights real rows as in production."""
    from sqlalchemy import insert, update

    from portal.extensions import db
    from portal.models import Asset, AssetTag, AssetVersion, Page

    with app.app_context():
        for batch in corpus(assets, pages):
            asset_rows, version_rows, page_rows, tag_rows = [], [], [], []
            for doc, page_docs in batch:
                asset_rows.append(dict(
                    id=doc.asset_id, title=doc.title, description=doc.description, content_type=doc.content_type,
                    product=doc.product, stage=doc.stage, region=doc.region, persona=doc.persona, status=doc.status,
                    expires_on=doc.expires_on, owner_id=owner_id, created_at=doc.updated_at,
                    updated_at=doc.updated_at))
                version_rows.append(dict(
                    id=doc.asset_id, asset_id=doc.asset_id, number=1, filename=f"asset-{doc.asset_id}.pptx",
                    storage_key=f"assets/{doc.asset_id}/1.pptx", size=100_000, sha256=f"{doc.asset_id:064x}",
                    mime="application/vnd.openxmlformats-officedocument.presentationml.presentation", kind="pptx",
                    processing="ready", page_count=len(page_docs), created_at=doc.updated_at))
                page_rows += [dict(id=p.page_id, version_id=doc.asset_id, asset_id=doc.asset_id, number=p.number,
                                   title=p.title, text=p.text, notes=p.notes) for p in page_docs]
                tag_rows += [dict(asset_id=doc.asset_id, tag=tag) for tag in doc.tags]
            db.session.execute(insert(Asset), asset_rows)
            db.session.execute(insert(AssetVersion), version_rows)
            db.session.execute(update(Asset).where(Asset.id.in_([r["id"] for r in asset_rows]))
                               .values(current_version_id=Asset.id))
            db.session.execute(insert(Page), page_rows)
            db.session.execute(insert(AssetTag), tag_rows)
            db.session.commit()


def over_http(index_dir: str, rounds: int, assets: int, pages: int) -> None:
    """The same mix through the portal's JSON API: a real HTTP server on loopback,
    the corpus loaded into the database (SQLite) so that hits become real rows."""
    import json
    import logging
    import urllib.parse
    import urllib.request

    from werkzeug.serving import make_server

    from portal import create_app
    from portal.admin.services import save_user
    from portal.config import load_settings

    data_dir = tempfile.mkdtemp(prefix="bench-http-")
    settings = load_settings({"PORTAL_DATA_DIR": data_dir, "PORTAL_QUEUE": "immediate"})
    app = create_app(settings, INDEX_DIR=index_dir, START_EMBEDDED_WORKER=False)
    with app.app_context():
        owner, _ = save_user("bench@example.com", role="marketer", password="bench-password")
        owner_id = owner.id
    started = time.perf_counter()
    load_rows(app, assets, pages, owner_id)
    print(f"\nDatabase rows for the corpus loaded in {time.perf_counter() - started:.0f} s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/api/v1"
    request = urllib.request.Request(f"{base}/tokens", data=b'{"email":"bench@example.com","password":"bench-password"}',
                                     headers={"Content-Type": "application/json"})
    token = json.load(urllib.request.urlopen(request))["token"]
    headers = {"Authorization": f"Bearer {token}"}

    def get(path: str, params: dict) -> None:
        with urllib.request.urlopen(urllib.request.Request(f"{base}{path}?{urllib.parse.urlencode(params)}",
                                                           headers=headers)) as response:
            body = json.load(response)
            assert body["total"] == 0 or body["items"], (path, params)  # hits became rows

    print("HTTP query latency (GET /api/v1/search, /api/v1/search/pages: index, database rows, highlights,"
          " search log, JSON)")
    for kind, queries in QUERY_MIX.items():
        samples = []
        for text, filters in queries:
            samples += measure(lambda t=text, f=filters: get("/search", {"q": t, **f}), rounds)
        print(f"  {kind:8} {percentiles(samples)}")
    samples = []
    for text, filters in PAGE_QUERIES:
        samples += measure(lambda t=text, f=filters: get("/search/pages", {"q": t, **f}), rounds)
    print(f"  {'pages':8} {percentiles(samples)}")
    server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--http", action="store_true", help="also measure through the portal's HTTP API")
    parser.add_argument("--dir", default=None, help="index directory (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true",
                        help="query the index already in --dir instead of rebuilding it")
    args = parser.parse_args()

    directory = args.dir or tempfile.mkdtemp(prefix="bench-index-")
    index = SearchIndex(directory)
    index.ensure()
    if args.reuse and index.doc_counts()["assets"]:
        counts = index.doc_counts()
        print(f"Corpus: {counts['assets']:,} assets, {counts['pages']:,} pages (reused index at {directory})")
        first_queries(index)
        in_process(index, args.rounds)
        if args.http:
            over_http(directory, args.rounds, args.assets, args.pages)
        return
    process = psutil.Process()
    peak = {"rss": process.memory_info().rss}
    stop = threading.Event()

    def sample_rss() -> None:
        while not stop.is_set():
            peak["rss"] = max(peak["rss"], process.memory_info().rss)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    started = time.perf_counter()
    count = index.rebuild(corpus(args.assets, args.pages), total=args.assets)
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    counts = index.doc_counts()
    print(f"Corpus: {counts['assets']:,} assets, {counts['pages']:,} pages (index at {directory})")
    print(f"Full rebuild: {elapsed:.1f} s, {(counts['assets'] + counts['pages']) / elapsed:,.0f} documents/s, "
          f"{count / elapsed:,.0f} assets/s; peak RSS {peak['rss'] / 2**20:.0f} MiB")
    first_queries(index)
    in_process(index, args.rounds)
    if args.http:
        over_http(directory, args.rounds, args.assets, args.pages)


if __name__ == "__main__":
    main()
