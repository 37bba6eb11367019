"""The search index: two Whoosh indexes (assets and pages) in one directory.

Assets and pages have different fields and are searched separately (the
search page's "Collateral" and "Slides" tabs), so each has its own index and
schema; they share one cross-process write lock and one generation.

Layout of `directory`:
  CURRENT          name of the live generation directory (swapped atomically)
  gen-<n>/         the Whoosh files of both indexes and a SCHEMA_VERSION marker
  write.lock       fcntl lock: the single writer across every process

One writer: every write takes `write.lock` (bounded wait, then IndexBusy),
opens one Whoosh writer per index, applies the whole batch, commits. Readers
never take the lock; they search the last commit through a pooled searcher,
lent to one thread at a time and reopened when the index changed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as q
from whoosh.reading import ReaderClosed

from search.documents import AssetDocument, PageDocument
from search.matching import (
    CollectionStats,
    Match,
    PostingsCache,
    SegmentData,
    SegmentMatcher,
    facet_counts,
    top_by_column,
    top_by_relevance,
)
from search.query import ASSET_FIELDS, PAGE_FIELDS, filter_terms, parse
from search.schema import (
    ANALYZER,
    NEVER,
    SCHEMA_VERSION,
    SCORED_FIELDS,
    SINGLE_FACETS,
    asset_schema,
    page_schema,
)
from search.writer import IndexBusy, bounded_merge, write_lock

__all__ = ["IndexBusy", "SearchIndex", "AssetResults", "PageResults", "AssetHit", "PageHit", "CheckReport"]

ASSETS, PAGES = "assets", "pages"
TEXT_LIMIT = 2_000_000
MLT_SAMPLE = 4_000
FEW_RESULTS = 3
# Largest segments a merge may build: an asset carries all its slides' text, so
# about as many words as twenty slides.
MERGE_ASSETS, MERGE_PAGES = bounded_merge(1_500), bounded_merge(30_000)
IDLE_SEARCHERS = 8  # per index, kept open between searches
# A query with operators, fields or phrases means exactly what it says; plain words may be widened.
OPERATORS = re.compile(r'\b(AND|OR|NOT)\b|["():*]')


@dataclass
class AssetHit:
    asset_id: int
    score: float


@dataclass
class PageHit:
    page_id: int
    asset_id: int
    score: float


@dataclass
class AssetResults:
    hits: list[AssetHit]
    total: int
    facets: dict[str, dict[str, int]]
    suggestion: str | None
    terms: list[str]


@dataclass
class PageResults:
    hits: list[PageHit]
    total: int
    facets: dict[str, dict[str, int]]
    suggestion: str | None
    terms: list[str]


@dataclass
class CheckReport:
    missing: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    extra: list[int] = field(default_factory=list)


def _stamp(value: datetime) -> int:
    return int(value.timestamp() * 1000) if value.tzinfo else int(
        (value - datetime(1970, 1, 1)).total_seconds() * 1000)


def _common_fields(doc: AssetDocument | PageDocument) -> dict:
    # Every document gets every facet column ("" when unset): Whoosh's column
    # readers misalign across segments where a column has gaps.
    fields = {name: getattr(doc, name) or "" for name in SINGLE_FACETS}
    return {
        **fields,
        "tags": ",".join(t.lower().replace(",", " ") for t in doc.tags),
        "status": doc.status,
        "expires": doc.expires_on.toordinal() if doc.expires_on else NEVER,
        "rating": int(round((doc.rating_average or 0.0) * 100)),
        "usage": int(doc.usage_count or 0),
        "updated": _stamp(doc.updated_at),
    }


def _asset_fields(doc: AssetDocument) -> dict:
    text = doc.text[:TEXT_LIMIT]
    body = "\n".join([doc.description or "", " ".join(doc.tags), doc.owner or "", text])
    return {
        "asset_id": str(doc.asset_id),
        "title": doc.title,
        "body": body,
        "title_pairs": doc.title,
        "body_pairs": body,
        "stamp": _stamp(doc.updated_at),
        "mlt": " ".join([doc.title, doc.description or "", " ".join(doc.tags), text[:MLT_SAMPLE]]),
        **_common_fields(doc),
    }


def _page_fields(doc: PageDocument) -> dict:
    body = "\n".join([(doc.text or "")[:TEXT_LIMIT], doc.notes or "", doc.asset_title or ""])
    return {
        "page_id": str(doc.page_id),
        "asset_id": str(doc.asset_id),
        "number": doc.number,
        "title": doc.title or "",
        "body": body,
        "title_pairs": doc.title or "",
        "body_pairs": body,
        **_common_fields(doc),
    }


def _total(matches: list[Match]) -> int:
    return sum(int(np.count_nonzero(match.mask)) for match in matches)


def _corrected(text: str, reader, fields: dict, spellers) -> str | None:
    """Each word the index does not know replaced by the closest word a speller
    knows (edit distance 2 at most); None when nothing changed."""
    corrected, changed = [], False
    for word in re.findall(r"\w+", text):
        stem = next((t.text for t in ANALYZER(word)), None)
        if stem is None or any((name, stem) in reader for name in fields):
            corrected.append(word)
            continue
        suggestion = None
        for speller, name in spellers:
            try:
                found = speller.corrector(name).suggest(word.lower(), limit=1, maxdist=2, prefix=1)
            except Exception:  # spelling is a nicety; never fail a search for it
                found = []
            if found:
                suggestion = found[0]
                break
        corrected.append(suggestion or word)
        changed = changed or suggestion is not None
    return " ".join(corrected) if changed else None


def _close(searcher) -> None:
    with contextlib.suppress(ReaderClosed):  # closing twice is harmless
        searcher.close()


class SearchIndex:
    def __init__(self, directory: str, *, lock_timeout: float = 30.0):
        self.directory = os.path.abspath(directory)
        self.lock_timeout = lock_timeout
        self._idle: dict[str, list[tuple[str | None, object]]] = {ASSETS: [], PAGES: []}
        self._idle_lock = threading.Lock()
        self._segments: dict[str, SegmentData] = {}
        self._segments_lock = threading.Lock()
        self._postings = PostingsCache()

    # --- generations and opening -------------------------------------------------

    def _current_name(self) -> str | None:
        try:
            with open(os.path.join(self.directory, "CURRENT")) as handle:
                return handle.read().strip() or None
        except FileNotFoundError:
            return None

    def _generation_path(self, name: str) -> str:
        return os.path.join(self.directory, name)

    def _create_generation(self) -> str:
        name = f"gen-{int(time.time() * 1000)}-{uuid.uuid4().hex[:6]}"
        path = self._generation_path(name)
        os.makedirs(path)
        whoosh_index.create_in(path, asset_schema(), indexname=ASSETS)
        whoosh_index.create_in(path, page_schema(), indexname=PAGES)
        with open(os.path.join(path, "SCHEMA_VERSION"), "w") as handle:
            handle.write(SCHEMA_VERSION)
        return name

    def _publish(self, name: str) -> None:
        temporary = os.path.join(self.directory, f".CURRENT-{uuid.uuid4().hex}")
        with open(temporary, "w") as handle:
            handle.write(name)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, os.path.join(self.directory, "CURRENT"))
        self.close()

    def _remove_old_generations(self, keep: str) -> None:
        # Readers that still have an old generation open keep their file handles;
        # removing the directory does not disturb them on POSIX.
        for entry in os.listdir(self.directory):
            if entry.startswith("gen-") and entry != keep:
                shutil.rmtree(self._generation_path(entry), ignore_errors=True)

    def _healthy(self, name: str | None) -> bool:
        if not name:
            return False
        path = self._generation_path(name)
        try:
            with open(os.path.join(path, "SCHEMA_VERSION")) as handle:
                if handle.read().strip() != SCHEMA_VERSION:
                    return False
            for indexname in (ASSETS, PAGES):
                ix = whoosh_index.open_dir(path, indexname=indexname)
                with ix.searcher() as searcher:
                    searcher.doc_count()
        except Exception:  # missing, unreadable or corrupt: rebuild
            return False
        return True

    def ensure(self) -> bool:
        """Open the index, or create it empty when it is missing, has another
        schema version or is corrupt. True means: refill it from the database."""
        os.makedirs(self.directory, exist_ok=True)
        if self._healthy(self._current_name()):
            return False
        with self._write_lock():
            if self._healthy(self._current_name()):
                return False  # another process fixed it meanwhile
            name = self._create_generation()
            self._publish(name)
            self._remove_old_generations(keep=name)
        return True

    def _open(self, indexname: str):
        name = self._current_name()
        if name is None:
            self.ensure()
            name = self._current_name()
        return whoosh_index.open_dir(self._generation_path(name), indexname=indexname)

    # --- the single writer -----------------------------------------------------

    def _write_lock(self):
        return write_lock(self.directory, self.lock_timeout)

    def _write(self, apply: Callable[[object, object], None]) -> None:
        # Rarely, under concurrent commits, Whoosh's writer trips over a reader it
        # closed itself (seen once in CI as ReaderClosed); the batch is idempotent,
        # so the whole write is redone once on fresh writers.
        try:
            self._write_once(apply)
        except ReaderClosed:
            self._write_once(apply)

    def _write_once(self, apply: Callable[[object, object], None]) -> None:
        with self._write_lock():
            assets_ix, pages_ix = self._open(ASSETS), self._open(PAGES)
            asset_writer = assets_ix.writer()
            try:
                page_writer = pages_ix.writer()
            except BaseException:
                asset_writer.cancel()
                raise
            try:
                apply(asset_writer, page_writer)
            except BaseException:
                asset_writer.cancel()
                page_writer.cancel()
                raise
            page_writer.commit(mergetype=MERGE_PAGES)
            asset_writer.commit(mergetype=MERGE_ASSETS)

    @staticmethod
    def _apply_items(asset_writer, page_writer, items, *, replace: bool = True) -> int:
        """Write the items; `replace=False` for a new, empty generation, where there
        is nothing to delete (each delete makes Whoosh's writer look the id up in
        every segment written so far)."""
        write_asset = asset_writer.update_document if replace else asset_writer.add_document
        count = 0
        for asset, pages in items:
            write_asset(**_asset_fields(asset))
            if pages is not None:
                if replace:
                    page_writer.delete_by_term("asset_id", str(asset.asset_id))
                for page in pages:
                    page_writer.add_document(**_page_fields(page))
            count += 1
        return count

    def update_asset(self, asset: AssetDocument, pages: list[PageDocument] | None) -> None:
        self.update_assets([(asset, pages)])

    def update_assets(self, items: Iterable[tuple[AssetDocument, list[PageDocument] | None]]) -> None:
        """Upsert assets (and replace their pages when given) in one commit."""
        items = list(items)
        if items:
            self._write(lambda aw, pw: self._apply_items(aw, pw, items))

    def delete_asset(self, asset_id: int) -> None:
        def apply(asset_writer, page_writer):
            asset_writer.delete_by_term("asset_id", str(asset_id))
            page_writer.delete_by_term("asset_id", str(asset_id))

        self._write(apply)

    def rebuild(self, batches: Iterable[list[tuple[AssetDocument, list[PageDocument]]]], *,
                total: int | None = None, on_progress: Callable[[int], None] | None = None) -> int:
        """Build a new generation batch by batch (one commit per batch, bounded
        memory), then swap it in; readers keep the old one until the swap."""
        with self._write_lock():
            name = self._create_generation()
            path = self._generation_path(name)
            assets_ix = whoosh_index.open_dir(path, indexname=ASSETS)
            pages_ix = whoosh_index.open_dir(path, indexname=PAGES)
            count = 0
            try:
                for batch in batches:
                    asset_writer = assets_ix.writer(limitmb=128)
                    page_writer = pages_ix.writer(limitmb=128)
                    try:
                        done = self._apply_items(asset_writer, page_writer, batch, replace=False)
                    except BaseException:
                        asset_writer.cancel()
                        page_writer.cancel()
                        raise
                    page_writer.commit(mergetype=MERGE_PAGES)
                    asset_writer.commit(mergetype=MERGE_ASSETS)
                    count += done
                    if on_progress:
                        on_progress(done)
            except BaseException:
                shutil.rmtree(path, ignore_errors=True)
                raise
            self._publish(name)
            self._remove_old_generations(keep=name)
        return count

    # --- reading -----------------------------------------------------------------

    @contextlib.contextmanager
    def _searcher(self, indexname: str) -> Iterator:
        """A searcher on the last commit, lent to this thread until the block ends.

        A Whoosh searcher reads through shared file handles, so it serves one
        thread at a time; opening one on a large index costs a few hundred
        milliseconds, so idle ones wait for the next search, whichever thread
        runs it (the threaded development server starts a thread per request)."""
        generation, searcher = self._take(indexname)
        try:
            yield searcher
        except ReaderClosed:
            _close(searcher)  # stale in a way up_to_date() did not show: never lend it again
            raise
        except BaseException:
            self._give_back(indexname, generation, searcher)
            raise
        self._give_back(indexname, generation, searcher)

    def _take(self, indexname: str) -> tuple[str | None, object]:
        generation = self._current_name()
        while True:
            with self._idle_lock:
                idle = self._idle[indexname]
                entry = idle.pop() if idle else None
            if entry is None:
                return generation, self._open(indexname).searcher()
            lent_generation, searcher = entry
            # Reopen rather than searcher.refresh(): refresh reuses segment readers
            # and misses deletions made since (updates would show twice).
            if lent_generation == generation and searcher.up_to_date():
                return generation, searcher
            _close(searcher)

    def _give_back(self, indexname: str, generation: str | None, searcher) -> None:
        with self._idle_lock:
            idle = self._idle[indexname]
            if len(idle) < IDLE_SEARCHERS:
                idle.append((generation, searcher))
                return
        _close(searcher)

    # --- per-segment data, shared by every searcher that holds the segment ----

    def _segment(self, reader) -> SegmentData:
        segment = reader.segment()
        key = segment.segment_id() if segment is not None else f"anon-{id(reader)}"
        data = self._segments.get(key)
        if data is None:
            with self._segments_lock:
                data = self._segments.get(key)
                if data is None:
                    data = SegmentData(reader, SCORED_FIELDS, self._postings)
                    self._segments[key] = data
        return data

    def _leaves(self, searcher) -> list[tuple[object, int, SegmentData, np.ndarray | None]]:
        """(segment searcher, docnum offset, cached segment data, live-documents mask) per segment."""
        leaves = searcher.__dict__.get("_collateral_leaves")
        if leaves is None:
            leaves = []
            for sub, offset in searcher.leaf_searchers():
                reader = sub.reader()
                if reader.doc_count_all() == 0:
                    continue
                data = self._segment(reader)
                live = None
                if reader.has_deletions():
                    live = ~data.mask(np.fromiter(reader.deleted_docs_set, dtype=np.int64))
                leaves.append((sub, offset, data, live))
            searcher.__dict__["_collateral_leaves"] = leaves
            with self._segments_lock:  # forget segments merged away
                current = {leaf[2] for leaf in leaves}
                if len(self._segments) > 4 * max(1, len(current)) + 16:
                    self._segments = {k: v for k, v in self._segments.items() if v in current}
        return leaves

    def _matches(self, searcher, query, filters: tuple, visible_on: int | None, scored: bool) -> list[Match]:
        """Per segment, the live documents matching the query and the filters, with scores."""
        stats = CollectionStats(searcher)
        out = []
        for sub, offset, data, live in self._leaves(searcher):
            allowed = data.allowed(sub.reader(), filters, visible_on)
            if allowed is not None and not allowed.any():
                out.append(Match(offset, data, allowed, None))
                continue
            mask, scores = SegmentMatcher(sub, data, stats, scored).evaluate(query)
            if allowed is not None:
                mask = mask & allowed
            if live is not None:
                mask = mask & live
            out.append(Match(offset, data, mask, scores))
        return out

    def _suggest(self, searcher, parsed, total: int, fields: dict) -> str | None:
        """'Did you mean': replace each word the index does not know with the
        closest known word (edit distance 2 at most). Words come from asset
        titles and from the slides' text (the page index keeps the unstemmed
        word lists; a second list over the large asset bodies would double
        indexing time)."""
        if total >= FEW_RESULTS or not parsed.text or OPERATORS.search(parsed.text):
            return None
        if "page_id" in searcher.schema:
            return _corrected(parsed.text, searcher.reader(), fields, [(searcher, "title"), (searcher, "body")])
        with self._searcher(PAGES) as pages:
            return _corrected(parsed.text, searcher.reader(), fields,
                              [(searcher, "title"), (pages, "body"), (pages, "title")])


    def _run(self, indexname: str, fields: dict, text: str, filters, include_hidden, today, **options):
        for attempt in (1, 2):
            try:
                with self._searcher(indexname) as searcher:
                    return self._search(searcher, fields, text, filters, include_hidden, today, **options)
            except ReaderClosed:
                # A searcher went stale in a way up_to_date() did not show (it was
                # closed, not given back): drop the idle ones too and search once more.
                if attempt == 2:
                    raise
                self.close()

    def _search(self, searcher, fields: dict, text: str, filters, include_hidden, today, *,
                sort: str, page: int, per_page: int):
        schema = searcher.schema
        if searcher.doc_count_all() == 0:
            return [], 0, facet_counts([]), None, parse(text, schema, fields).terms
        terms_filter = filter_terms(filters)
        visible_on = None if include_hidden else (today or date.today()).toordinal()
        page, per_page = max(1, page), max(1, min(per_page, 200))
        depth = page * per_page
        parsed = parse(text, schema, fields)
        column = {"rating": "rating", "usage": "usage", "newest": "updated"}.get(sort)
        if not parsed.text and not column:
            column = "updated"  # browsing: newest first
        matches = self._matches(searcher, parsed.query, terms_filter, visible_on, scored=column is None)
        total = _total(matches)
        if total == 0 and parsed.text and not OPERATORS.search(parsed.text):
            # Nothing has every word: widen to any word, best matches first.
            wider = parse(text, schema, fields, conjunction=False)
            wider_matches = self._matches(searcher, wider.query, terms_filter, visible_on, scored=column is None)
            wider_total = _total(wider_matches)
            if wider_total:
                parsed, matches, total = wider, wider_matches, wider_total
        if column:
            ranked = [(docnum, 0.0) for docnum in top_by_column(matches, column, depth)]
        else:
            ranked = top_by_relevance(matches, depth)
        window = [(docnum, score, searcher.stored_fields(docnum))
                  for docnum, score in ranked[(page - 1) * per_page: page * per_page]]
        facets = facet_counts(matches)
        return window, total, facets, self._suggest(searcher, parsed, total, fields), parsed.terms

    def search_assets(self, q_text: str, *, filters: dict[str, str] | None = None, sort: str = "relevance",
                      page: int = 1, per_page: int = 20, include_hidden: bool = False,
                      today: date | None = None) -> AssetResults:
        window, total, facets, suggestion, terms = self._run(
            ASSETS, ASSET_FIELDS, q_text, filters, include_hidden, today, sort=sort, page=page, per_page=per_page)
        hits = [AssetHit(int(stored["asset_id"]), round(score, 4)) for _, score, stored in window]
        return AssetResults(hits, total, facets, suggestion, terms)

    def search_pages(self, q_text: str, *, filters: dict[str, str] | None = None, page: int = 1,
                     per_page: int = 24, include_hidden: bool = False, today: date | None = None) -> PageResults:
        window, total, facets, suggestion, terms = self._run(
            PAGES, PAGE_FIELDS, q_text, filters, include_hidden, today, sort="relevance", page=page,
            per_page=per_page)
        hits = [PageHit(int(stored["page_id"]), int(stored["asset_id"]), round(score, 4))
                for _, score, stored in window]
        return PageResults(hits, total, facets, suggestion, terms)

    def more_like_this(self, asset_id: int, *, limit: int = 5, include_hidden: bool = False,
                       today: date | None = None) -> list[int]:
        visible_on = None if include_hidden else (today or date.today()).toordinal()
        with self._searcher(ASSETS) as searcher:
            docnum = searcher.document_number(asset_id=str(asset_id))
            sample = (searcher.stored_fields(docnum).get("mlt") or "") if docnum is not None else ""
            if not sample.strip():
                return []
            # Whoosh picks the sample's most telling words; they are then searched like
            # any query (Whoosh's own more_like scores every candidate one call at a time).
            key_terms = searcher.key_terms_from_text("body", sample, numterms=12)
            similar = q.Or([q.Term("body", word, boost=weight) for word, weight in key_terms])
            ranked = top_by_relevance(self._matches(searcher, similar, (), visible_on, scored=True), limit + 1)
            found = [int(searcher.stored_fields(hit)["asset_id"]) for hit, _ in ranked]
        return [other for other in found if other != asset_id][:limit]

    def check(self, expected: dict[int, datetime]) -> CheckReport:
        """Compare the index with the database (asset id -> updated_at)."""
        with self._searcher(ASSETS) as searcher:
            indexed = {int(fields["asset_id"]): fields.get("stamp") for fields in searcher.all_stored_fields()}
        report = CheckReport()
        for asset_id, updated_at in expected.items():
            if asset_id not in indexed:
                report.missing.append(asset_id)
            elif indexed[asset_id] is None or indexed[asset_id] < _stamp(updated_at):
                report.stale.append(asset_id)
        report.extra = sorted(set(indexed) - set(expected))
        report.missing.sort()
        report.stale.sort()
        return report

    def doc_counts(self) -> dict[str, int]:
        with self._searcher(ASSETS) as assets, self._searcher(PAGES) as pages:
            return {"assets": assets.doc_count(), "pages": pages.doc_count()}

    def drop_cached_postings(self) -> None:
        """Forget the postings kept in memory; the next searches read them from disk."""
        self._postings.clear()

    def close(self) -> None:
        """Close the idle searchers (lent ones are closed or kept when given back)."""
        with self._idle_lock:
            idle = [searcher for searchers in self._idle.values() for _, searcher in searchers]
            for searchers in self._idle.values():
                searchers.clear()
        for searcher in idle:
            _close(searcher)

