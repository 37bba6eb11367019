"""Search benchmark: the portal's index against idiomatic plain Whoosh, side by
side on the same corpus in the same run.

    .venv/bin/python bench/bench_search.py            # 10,000 assets, 200,000 pages
    .venv/bin/python bench/bench_search.py --small    # 500 assets, 10,000 pages (a few minutes)
    .venv/bin/python bench/bench_search.py --dir DIR --reuse    # query the indexes an earlier run built in DIR

The corpus has a realistic vocabulary: 30,000 made-up word types (distinct stems)
plus the sales words, drawn by a Zipf law (the sales words are the most frequent,
the worst case for totals and facets), 40-120 words a page, 20 pages an asset.

Each index is built in a child process of its own (peak RSS is that process's
maximum RSS; time spent generating the corpus is not counted):
  portal  SearchIndex.rebuild, batches of 500 assets, one commit per batch
  plain   idiomatic Whoosh: one schema for assets and slides (TEXT title and body
          with the default analyzer, ID facets, KEYWORD tags, NUMERIC columns),
          one writer, one commit; searched with MultifieldParser and
          searcher.search(limit=20, filter=visibility and facets, groupedby=facets)
Then both answer the same queries, interleaved query by query (so both see the
same machine load): p50/p95 per query type and the ratio portal / plain.
Then (portal only): single-asset commits, each timed until the change is
searchable, and the query p95 after them against the fresh index (a copy of it
made before the commits, queried interleaved with the committed-to index in the
same process, so both see the same machine and caches); with --http,
the portal's JSON API over HTTP (the corpus loaded into SQLite as rows).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import date, datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from search.documents import AssetDocument, PageDocument  # noqa: E402

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
WORD_TYPES = 30_000
ZIPF_S = 1.0
BATCH_ASSETS = 500
TODAY = date(2026, 6, 1)


class Vocabulary:
    """The sales words, then WORD_TYPES made-up words with distinct stems (none
    a stop word), most frequent first, drawn by a Zipf law."""

    def __init__(self, rng: random.Random, size: int = WORD_TYPES):
        from search.schema import ANALYZER

        consonants, vowels = "bcdfghklmnprstvz", "aeiou"
        stems = {token.text for word in SALES_WORDS for token in ANALYZER(word)}
        words = []
        while len(words) < size:
            word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4)))
            stem = [token.text for token in ANALYZER(word)]
            if len(stem) == 1 and stem[0] not in stems and word not in SALES_WORDS:
                stems.add(stem[0])
                words.append(word)
        self.words = SALES_WORDS + words
        self.cumulative = list(_accumulate(1 / (rank + 1) ** ZIPF_S for rank in range(len(self.words))))
        self.rng = rng

    def text(self, count: int) -> str:
        return " ".join(self.rng.choices(self.words, cum_weights=self.cumulative, k=count))


def _accumulate(values):
    total = 0.0
    for value in values:
        total += value
        yield total


class SlideCopies:
    """Slide lineage groups: about 10% of slides are copies of a slide in a nearby deck,
    in groups of 2-5 (slide search shows each group once)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.open: list[list[int]] = []  # [group id, copies still to come]

    def group(self, pages: list[PageDocument]) -> None:
        for page in pages:
            if self.rng.random() >= 0.1:
                continue
            if self.open and self.rng.random() < 0.75:
                slot = self.rng.randrange(len(self.open))
                page.group_id = self.open[slot][0]
                self.open[slot][1] -= 1
                if not self.open[slot][1]:
                    self.open.pop(slot)
            else:
                page.group_id = page.page_id
                self.open.append([page.page_id, self.rng.randint(1, 4)])


def corpus(assets: int, pages: int, seed: int = 7, batch: int = BATCH_ASSETS, first_id: int = 1):
    """Batches of (asset, its pages), the same for a given seed and size."""
    rng = random.Random(seed)
    copies = SlideCopies(random.Random(seed + 1))  # its own generator: the text stays the same
    words = Vocabulary(rng)
    pages_per_asset = max(1, pages // assets)
    base = datetime(2026, 1, 1)
    for start in range(first_id, first_id + assets, batch):
        items = []
        for asset_id in range(start, min(first_id + assets, start + batch)):
            tags = rng.sample(TAGS, rng.randint(1, 3))
            facets = dict(content_type=rng.choice(TYPES), product=rng.choice(PRODUCTS), stage=rng.choice(STAGES),
                          region=rng.choice(REGIONS), persona=rng.choice(PERSONAS))
            title = words.text(rng.randint(3, 7)).title()
            rating = round(rng.uniform(1, 5), 2) if rng.random() < 0.7 else None
            usage = int(rng.paretovariate(1.2)) - 1
            updated = base + timedelta(minutes=asset_id)
            status = "published" if rng.random() > 0.05 else "retired"
            page_docs = [
                PageDocument(page_id=asset_id * 1000 + n, asset_id=asset_id, number=n, title=words.text(5).title(),
                             text=words.text(rng.randint(40, 120)), notes=words.text(15) if n % 3 == 0 else "",
                             asset_title=title, tags=tags, status=status, rating_average=rating, usage_count=usage,
                             updated_at=updated, **facets)
                for n in range(1, pages_per_asset + 1)
            ]
            copies.group(page_docs)
            # As portal/search/indexing.py build_documents makes it: every page's title, text and notes.
            text = "\n".join(part for p in page_docs for part in (p.title, p.text, p.notes) if part)
            items.append((AssetDocument(
                asset_id=asset_id, title=title, description=words.text(25), tags=tags,
                owner="Morgan Marketer morgan@example.com", text=text, status=status, expires_on=None,
                rating_average=rating, usage_count=usage, updated_at=updated, **facets), page_docs))
        yield items


# --- plain Whoosh, as its documentation would have it ----------------------------------------


def plain_schema():
    from whoosh.fields import ID, KEYWORD, NUMERIC, TEXT, Schema

    return Schema(
        id=ID(stored=True, unique=True), asset_id=ID(stored=True),
        title=TEXT(), body=TEXT(),
        tags=KEYWORD(lowercase=True, commas=True),
        content_type=ID(sortable=True), product=ID(sortable=True), stage=ID(sortable=True),
        region=ID(sortable=True), persona=ID(sortable=True),
        status=ID(), expires=NUMERIC(int), rating=NUMERIC(int, sortable=True), usage=NUMERIC(int, sortable=True),
        updated=NUMERIC(int, bits=64, sortable=True),
    )


def _plain_common(doc) -> dict:
    from search.documents import stamp
    from search.schema import NEVER

    return dict(tags=",".join(t.lower() for t in doc.tags), content_type=doc.content_type,
                product=doc.product or "", stage=doc.stage or "", region=doc.region or "",
                persona=doc.persona or "", status=doc.status,
                expires=doc.expires_on.toordinal() if doc.expires_on else NEVER,
                rating=int(round((doc.rating_average or 0) * 100)), usage=doc.usage_count,
                updated=stamp(doc.updated_at))


def plain_asset_fields(doc: AssetDocument) -> dict:
    body = "\n".join([doc.description, " ".join(doc.tags), doc.owner, doc.text])
    return dict(id=str(doc.asset_id), title=doc.title, body=body, **_plain_common(doc))


def plain_page_fields(doc: PageDocument) -> dict:
    body = "\n".join([doc.text, doc.notes, doc.asset_title])
    return dict(id=str(doc.page_id), asset_id=str(doc.asset_id), title=doc.title, body=body, **_plain_common(doc))


def plain_build(directory: str, batches) -> int:
    from whoosh import index as whoosh_index

    os.makedirs(directory, exist_ok=True)
    assets_ix = whoosh_index.create_in(directory, plain_schema(), indexname="assets")
    pages_ix = whoosh_index.create_in(directory, plain_schema(), indexname="pages")
    asset_writer, page_writer = assets_ix.writer(limitmb=128), pages_ix.writer(limitmb=128)
    count = 0
    for batch in batches:
        for doc, page_docs in batch:
            asset_writer.add_document(**plain_asset_fields(doc))
            for page in page_docs:
                page_writer.add_document(**plain_page_fields(page))
            count += 1
    page_writer.commit()
    asset_writer.commit()
    return count


class PlainSearch:
    """Idiomatic Whoosh searching: parse, search with a filter and groupedby facets."""

    def __init__(self, directory: str):
        from whoosh import index as whoosh_index
        from whoosh import qparser, sorting

        self.searchers = {name: whoosh_index.open_dir(directory, indexname=name).searcher()
                          for name in ("assets", "pages")}
        self.parser = qparser.MultifieldParser(["title", "body"], self.searchers["assets"].schema,
                                               fieldboosts={"title": 4.0, "body": 1.0})
        self.groups = {name: sorting.FieldFacet(name) for name in ("content_type", "product", "stage", "region",
                                                                     "persona")}
        self.groups["tag"] = sorting.FieldFacet("tags", allow_overlap=True)
        self.count = sorting.Count

    def search(self, indexname: str, text: str, filters: dict[str, str]) -> tuple[int, list[str], dict]:
        from whoosh import query as q

        searcher = self.searchers[indexname]
        terms = [q.Term("tags" if name == "tag" else name, value.lower() if name == "tag" else value)
                 for name, value in filters.items()]
        terms += [q.Term("status", "published"), q.NumericRange("expires", TODAY.toordinal(), None)]
        query = self.parser.parse(text) if text else q.Every()
        results = searcher.search(query, limit=20, filter=q.And(terms), groupedby=self.groups, maptype=self.count)
        facets = {name: results.groups(name) for name in self.groups}
        return len(results), [hit["id"] for hit in results], facets

    def doc_counts(self) -> dict[str, int]:
        return {name: searcher.doc_count() for name, searcher in self.searchers.items()}


class FreshCopy:
    """The portal's index as it was before the commits (a copy), asked like PlainSearch."""

    def __init__(self, directory: str):
        from search.index import SearchIndex

        self.index = SearchIndex(directory)

    def search(self, indexname: str, text: str, filters: dict[str, str]):
        return portal_query(self.index, indexname, text, filters)


# --- building, in a child process each -------------------------------------------------------


class Timed:
    """Wraps the corpus generator: counts the documents and the time spent generating them."""

    def __init__(self, batches):
        self.batches, self.wall, self.cpu, self.documents = batches, 0.0, 0.0, 0

    def __iter__(self):
        iterator = iter(self.batches)
        while True:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                batch = next(iterator)
            except StopIteration:
                return
            finally:
                self.wall += time.perf_counter() - wall
                self.cpu += time.process_time() - cpu
            self.documents += sum(1 + len(pages) for _, pages in batch)
            yield batch


def build_child(kind: str, directory: str, assets: int, pages: int) -> None:
    """Build one index and print its figures as JSON (run as a child process).
    Peak RSS is the process's maximum when the build is done, before anything
    opens the index for searching (opening is timed and measured apart)."""
    source = Timed(corpus(assets, pages))
    wall, cpu = time.perf_counter(), time.process_time()
    if kind == "portal":
        from search.index import SearchIndex

        index = SearchIndex(directory)
        index.ensure()
        count = index.rebuild(source, total=assets)
    else:
        count = plain_build(directory, source)
    wall, cpu = time.perf_counter() - wall - source.wall, time.process_time() - cpu - source.cpu
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    opened = time.perf_counter()
    counts = index.doc_counts() if kind == "portal" else PlainSearch(directory).doc_counts()
    assert sum(counts.values()) == source.documents, (counts, source.documents)
    print(json.dumps(dict(kind=kind, assets=count, documents=source.documents, wall=wall, cpu=cpu,
                          peak_rss=peak_rss, generating=source.wall, open_seconds=time.perf_counter() - opened,
                          rss_after_open=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)))


def build(kind: str, directory: str, assets: int, pages: int) -> dict:
    shutil.rmtree(directory, ignore_errors=True)
    completed = subprocess.run([sys.executable, os.path.abspath(__file__), "--build-child", kind, "--dir", directory,
                                "--assets", str(assets), "--pages", str(pages)],
                               check=True, capture_output=True, text=True)
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    figures["disk"] = disk_usage(directory)
    return figures


def disk_usage(directory: str) -> int:
    return sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(directory) for name in names)


# --- querying ----------------------------------------------------------------------------------

QUERY_MIX = {
    "1-word": ("assets", [("pricing", {}), ("security", {}), ("onboarding", {}), ("hipaa", {}), ("renewal", {})]),
    "2-word AND": ("assets", [("pricing healthcare", {}), ("security compliance", {}), ("roi payback", {}),
                              ("partner channel", {}), ("cloud migration", {})]),
    "phrase": ("assets", [('"pricing healthcare"', {}), ('"single sign"', {}), ('"case study"', {}),
                          ('"data privacy"', {}), ('"patient care network"', {})]),
    "1-word + facet": ("assets", [("pricing", {"region": "EMEA"}),
                                  ("security", {"content_type": "datasheet", "product": "Secure"}),
                                  ("roi", {"persona": "CFO"}), ("onboarding", {"product": "Care Platform",
                                                                               "tag": "onboarding"}),
                                  ("hipaa", {"stage": "proposal", "tag": "healthcare"})]),
    "slide search": ("pages", [("pricing", {}), ("security compliance", {}), ('"patient care"', {}),
                               ("hipaa", {"region": "APAC"}), ("payback", {})]),
    # Every slide matches: the most copies to group.
    "slide browsing": ("pages", [("", {})]),
}


def pick(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def portal_query(index, indexname: str, text: str, filters: dict):
    search = index.search_assets if indexname == "assets" else index.search_pages
    return search(text, filters=filters, today=TODAY)


def _timed(samples: tuple[list, list], search, *args) -> None:
    """Add the (wall, CPU) seconds of one call; the CPU time is this thread's,
    which being descheduled on a loaded machine does not inflate."""
    wall, cpu = time.perf_counter(), time.thread_time()
    search(*args)
    samples[0].append(time.perf_counter() - wall)
    samples[1].append(time.thread_time() - cpu)


def run_queries(index, plain: PlainSearch | None, rounds: int) -> dict:
    """Per query type, (wall, CPU) samples of each side, portal and plain
    interleaved query by query."""
    timings = {}
    for kind, (indexname, queries) in QUERY_MIX.items():
        mine, theirs = ([], []), ([], [])
        for text, filters in queries:
            portal_query(index, indexname, text, filters)  # first use: open searchers, read columns
            if plain:
                plain.search(indexname, text, filters)
            for _ in range(rounds):
                _timed(mine, portal_query, index, indexname, text, filters)
                if plain:
                    _timed(theirs, plain.search, indexname, text, filters)
        timings[kind] = (mine, theirs)
    return timings


def totals_side_by_side(index, plain: PlainSearch) -> None:
    print("\nTotals (portal stems words, plain Whoosh does not; the counts differ by that):")
    for kind, (indexname, queries) in QUERY_MIX.items():
        for text, filters in queries:
            mine = portal_query(index, indexname, text, filters).total
            theirs = plain.search(indexname, text, filters)[0]
            print(f"  {kind:15} {text + (' ' + json.dumps(filters) if filters else ''):60.60} {mine:>8,} {theirs:>8,}")


def single_asset_commits(index, commits: int, assets: int, pages: int) -> tuple[list[float], float]:
    """Replace one asset (and its pages) per commit, each with a new word in its
    title: the time from the call until a search finds it. Then the time the
    merges started meanwhile (search/merging.py) take to finish."""
    rng = random.Random(99)
    pages_per_asset = max(1, pages // assets)
    fresh = next(corpus(commits, commits * pages_per_asset, seed=11, batch=commits))
    latencies = []
    for n, (doc, page_docs) in enumerate(fresh):
        asset_id = rng.randint(1, assets)
        marker = f"zqmarker{n}"
        doc = replace(doc, asset_id=asset_id, title=f"{doc.title} {marker}")
        page_docs = [replace(p, asset_id=asset_id, page_id=asset_id * 1000 + p.number) for p in page_docs]
        started = time.perf_counter()
        index.update_assets([(doc, page_docs)])
        found = index.search_assets(marker, include_hidden=True).total
        latencies.append(time.perf_counter() - started)
        assert found == 1, (marker, found)
    started = time.perf_counter()
    index.wait_for_merges()
    return latencies, time.perf_counter() - started


def segment_counts(index) -> str:
    parts = []
    for name in ("assets", "pages"):
        with index.searchers.lend(name) as searcher:
            sizes = sorted((sub.doc_count() for sub, _ in searcher.leaf_searchers()), reverse=True)
        parts.append(f"{name} {len(sizes)} ({', '.join(map(str, sizes[:4]))}{', ...' if len(sizes) > 4 else ''})")
    return "; ".join(parts)


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
    """The same mix through the portal over HTTP: a real threaded server on loopback, the
    corpus loaded into the database (SQLite) so that hits become real rows. The JSON API
    with a bearer token (a marketer), then the pages a rep opens with a session cookie:
    the search results page (assets and slides tabs) and the asset page."""
    import logging

    from werkzeug.serving import make_server

    from portal import create_app
    from portal.admin.services import save_user
    from portal.config import load_settings

    data_dir = tempfile.mkdtemp(prefix="bench-http-")
    # Plain http on loopback: the session cookie must not be marked Secure; the bench signs
    # in without a form, so without a CSRF token; one user sends every search, faster than
    # the per-user limit allows a person.
    settings = load_settings({"PORTAL_DATA_DIR": data_dir, "PORTAL_QUEUE": "immediate",
                              "SESSION_COOKIE_SECURE": "0", "SEARCHES_PER_MINUTE": "1000000"})
    app = create_app(settings, INDEX_DIR=index_dir, START_EMBEDDED_WORKER=False, WTF_CSRF_ENABLED=False)
    with app.app_context():
        owner, _ = save_user("bench@example.com", role="marketer", password="bench-password")
        save_user("rep@example.com", role="rep", password="bench-password")
        owner_id = owner.id
    started = time.perf_counter()
    load_rows(app, assets, pages, owner_id)
    print(f"\nDatabase rows for the corpus loaded in {time.perf_counter() - started:.0f} s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server_cpu: list[float] = []

    def cpu_timed(environ, start_response):
        # The server thread's CPU time for the whole response (body included), as bench_home
        # measures it: what a request costs, whatever else the machine runs.
        started = time.thread_time()
        body = b"".join(app.wsgi_app(environ, start_response))
        server_cpu.append(time.thread_time() - started)
        return [body]

    server = make_server("127.0.0.1", 0, cpu_timed, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        _json_api_over_http(base, rounds, server_cpu)
        _rep_pages_over_http(app, base, rounds, server_cpu)
    finally:
        server.shutdown()


def _timed_requests(fetch, calls, rounds: int, server_cpu: list[float]) -> str:
    """p50 / p95 ms of the wall clock seen by the client, and of the server thread's CPU time."""
    for call in calls:  # first use: templates compiled, searchers opened
        fetch(*call)
    wall = []
    server_cpu.clear()
    for _ in range(rounds):
        for call in calls:
            started = time.perf_counter()
            fetch(*call)
            wall.append(time.perf_counter() - started)
    cpu = list(server_cpu)
    return f"{pick(wall, 50):6.1f} / {pick(wall, 95):6.1f}   CPU {pick(cpu, 50):6.1f} / {pick(cpu, 95):6.1f}"


def _json_api_over_http(base: str, rounds: int, server_cpu: list[float]) -> None:
    import requests

    token = requests.post(f"{base}/api/v1/tokens",
                          json={"email": "bench@example.com", "password": "bench-password"}).json()["token"]
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"

    def get(path: str, params: dict) -> None:
        response = api.get(f"{base}/api/v1{path}", params=params)
        response.raise_for_status()
        body = response.json()
        assert body["total"] == 0 or body["items"], (path, params)  # hits became rows

    print("\nHTTP query latency, portal only (GET /api/v1/search, /api/v1/search/pages: index, database rows,"
          " highlights, search log, JSON), p50 / p95 ms, wall then the server thread's CPU")
    for kind, (indexname, queries) in QUERY_MIX.items():
        path = "/search" if indexname == "assets" else "/search/pages"
        print(f"  {kind:15} {_timed_requests(get, [(path, {'q': t, **f}) for t, f in queries], rounds, server_cpu)}")


def _rep_pages_over_http(app, base: str, rounds: int, server_cpu: list[float]) -> None:
    import requests
    from sqlalchemy import or_, select

    from portal.extensions import db
    from portal.models import Asset

    rep = requests.Session()
    signed_in = rep.post(f"{base}/login", data={"email": "rep@example.com", "password": "bench-password"},
                         allow_redirects=False)
    assert signed_in.status_code in (302, 303), signed_in.status_code

    def page(path: str, params: dict, must_show: str) -> None:
        response = rep.get(f"{base}{path}", params=params, allow_redirects=False)
        assert response.status_code == 200 and must_show in response.text, (path, params, response.status_code)

    print("\nHTML pages a rep opens (session cookie: page, layout, facets, favourites), p50 / p95 ms,"
          " wall then the server thread's CPU")
    for kind, (indexname, queries) in QUERY_MIX.items():
        tab = {"tab": "slides"} if indexname == "pages" else {}
        calls = [("/search", {"q": t, **f, **tab}, "</main>") for t, f in queries]
        print(f"  GET /search {kind:15} {_timed_requests(page, calls, rounds, server_cpu)}")
    with app.app_context():  # items a rep may open: published and not expired
        today = date.today()
        visible = list(db.session.scalars(
            select(Asset.id).where(Asset.status == "published", or_(Asset.expires_on.is_(None),
                                                                     Asset.expires_on >= today))
            .order_by(Asset.id)))
        db.session.remove()
    opened = random.Random(16).sample(visible, min(25, len(visible)))
    # Each round opens every item again: within the view window, so (as for a rep who comes
    # back to an item) the view is not counted twice; "Recently viewed" is updated each time.
    calls = [(f"/assets/{asset_id}", {}, "</main>") for asset_id in opened]
    print(f"  GET /assets/{{id}} ({len(opened)} items)  {_timed_requests(page, calls, rounds, server_cpu)}")



# --- reporting -----------------------------------------------------------------------------------


def ratio(mine: float, theirs: float) -> str:
    return f"{mine / theirs:.2f}x" if theirs else "-"


def report_builds(portal: dict, plain: dict) -> None:
    mib = 2**20
    rows = [
        ("rebuild docs/s (wall)", f"{portal['documents'] / portal['wall']:,.0f}", f"{plain['documents'] / plain['wall']:,.0f}",
         ratio(portal["documents"] / portal["wall"], plain["documents"] / plain["wall"])),
        ("rebuild docs/s (CPU time)", f"{portal['documents'] / portal['cpu']:,.0f}",
         f"{plain['documents'] / plain['cpu']:,.0f}",
         ratio(portal["documents"] / portal["cpu"], plain["documents"] / plain["cpu"])),
        ("rebuild wall / CPU s", f"{portal['wall']:.1f} / {portal['cpu']:.1f}", f"{plain['wall']:.1f} / {plain['cpu']:.1f}",
         ""),
        ("peak RSS MiB of the rebuild", f"{portal['peak_rss'] / mib:,.0f}", f"{plain['peak_rss'] / mib:,.0f}",
         ratio(portal["peak_rss"], plain["peak_rss"])),
        ("peak RSS MiB, index then opened", f"{portal['rss_after_open'] / mib:,.0f}",
         f"{plain['rss_after_open'] / mib:,.0f}", ratio(portal["rss_after_open"], plain["rss_after_open"])),
        ("disk MiB", f"{portal['disk'] / mib:,.1f}", f"{plain['disk'] / mib:,.1f}", ratio(portal["disk"], plain["disk"])),
    ]
    print(f"\n{'figure':34} {'portal':>14} {'plain Whoosh':>14} {'ratio':>8}")
    for name, mine, theirs, r in rows:
        print(f"{name:34} {mine:>14} {theirs:>14} {r:>8}")


def report_queries(timings: dict) -> None:
    for clock, label in ((0, "wall"), (1, "CPU")):
        print(f"\n{'query, ' + label + ' p50 / p95 ms':34} {'portal':>14} {'plain Whoosh':>14} {'ratio p95':>10}")
        for kind, (mine, theirs) in timings.items():
            mine, theirs = mine[clock], theirs[clock]
            left = f"{pick(mine, 50):.1f} / {pick(mine, 95):.1f}"
            right = f"{pick(theirs, 50):.1f} / {pick(theirs, 95):.1f}" if theirs else "-"
            print(f"{kind:34} {left:>14} {right:>14} {ratio(pick(mine, 95), pick(theirs, 95)) if theirs else '-':>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=200_000)
    parser.add_argument("--small", action="store_true", help="500 assets, 10,000 pages")
    parser.add_argument("--rounds", type=int, default=None, help="timed runs of each query (default 20 --small, else 10)")
    parser.add_argument("--commits", type=int, default=1_000, help="single-asset commits after the queries (0: none)")
    parser.add_argument("--dir", default=None, help="where the two indexes go (default: a temporary directory)")
    parser.add_argument("--reuse", action="store_true", help="query the indexes an earlier run left in --dir")
    parser.add_argument("--only", choices=["portal", "plain"], help="build and query one side only")
    parser.add_argument("--http", action="store_true", help="also time the portal's HTTP API (database rows loaded)")
    parser.add_argument("--build-child", choices=["portal", "plain"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if args.small:
        args.assets, args.pages = 500, 10_000
    if args.rounds is None:
        args.rounds = 20 if args.small else 10
    directory = args.dir or tempfile.mkdtemp(prefix="bench-search-")
    if args.build_child:
        build_child(args.build_child, directory, args.assets, args.pages)
        return

    from search.index import SearchIndex

    portal_dir, plain_dir = os.path.join(directory, "portal"), os.path.join(directory, "plain")
    print(f"Corpus: {args.assets:,} assets, {args.pages:,} pages; {WORD_TYPES:,} word types + "
          f"{len(SALES_WORDS)} sales words, Zipf s={ZIPF_S}; indexes in {directory}")
    print(f"Load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min), "
          f"{os.cpu_count()} cores")
    if not args.reuse:
        figures = {}
        for kind in ("portal", "plain"):
            if args.only and kind != args.only:
                continue
            figures[kind] = build(kind, portal_dir if kind == "portal" else plain_dir, args.assets, args.pages)
            print(f"built {kind}: {json.dumps(figures[kind])}; load {os.getloadavg()[0]:.2f}", flush=True)
        if len(figures) == 2:
            report_builds(figures["portal"], figures["plain"])
    index = SearchIndex(portal_dir)
    plain = PlainSearch(plain_dir) if args.only != "portal" else None
    if plain:
        totals_side_by_side(index, plain)
    fresh = run_queries(index, plain, args.rounds)
    report_queries(fresh)
    print(f"load after queries: {os.getloadavg()[0]:.2f}")
    if args.commits:
        print(f"segments before the commits: {segment_counts(index)}")
        fresh_dir = os.path.join(directory, "portal-fresh")
        shutil.rmtree(fresh_dir, ignore_errors=True)
        shutil.copytree(portal_dir, fresh_dir)  # nothing writes now: the build's merges are done
        latencies, settling = single_asset_commits(index, args.commits, args.assets, args.pages)
        print(f"\n{args.commits} single-asset commits (asset and its pages replaced), each until searchable: "
              f"p50 {pick(latencies, 50):.0f} ms, p95 {pick(latencies, 95):.0f} ms, max {max(latencies) * 1000:.0f} ms;"
              f" {index.merges.merged} merges, the last done {settling:.1f} s after the last commit")
        print(f"segments after: {segment_counts(index)}")
        # The fresh index's copy and the committed-to index, interleaved query by query.
        after = run_queries(index, FreshCopy(fresh_dir), args.rounds)
        for clock, label in ((0, "wall"), (1, "CPU")):
            print(f"{'query ' + label + ' ms p50 / p95':34} {'fresh copy':>14} {'after commits':>14} {'ratio p95':>10}")
            for kind, (mine, theirs) in after.items():
                mine, theirs = mine[clock], theirs[clock]
                print(f"{kind:34} {pick(theirs, 50):>6.1f} / {pick(theirs, 95):<6.1f} "
                      f"{pick(mine, 50):>6.1f} / {pick(mine, 95):<6.1f} {ratio(pick(mine, 95), pick(theirs, 95)):>10}")
        shutil.rmtree(fresh_dir, ignore_errors=True)
    if args.http:
        over_http(portal_dir, args.rounds, args.assets, args.pages)
    print(f"Load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
