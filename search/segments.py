"""What queries need from each immutable segment, read once in bulk and shared.

A Whoosh segment never changes after its commit, so its facet codes, sort
columns, field lengths and filter masks are read once (SegmentData) and kept
for every searcher that holds the segment (SegmentCache); postings go through
one memory-bounded cache per index (PostingsCache). The writer finds the
documents an update replaces through the id columns of SegmentKeys.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict

import numpy as np

from search import runs  # the module: search/runs.py imports this one
from search.schema import GROUP_COLUMNS, ID_COLUMNS, SCORED_FIELDS, SINGLE_FACETS
from search.sequences import SEQUENCE_DTYPE, phrase_documents
from search.whoosh_internals import (
    EMPTY_IDS,
    bytes_column,
    field_lengths,
    numeric_field_column,
    read_postings,
    segment_column,
)

POSTINGS_CACHE_BYTES = 128 * 2**20  # per process, over every segment
_SERIALS = itertools.count()


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else (value or "")


class PostingsCache:
    """Recently used postings as arrays, least recently used dropped first, within
    a memory budget shared by every segment: segments never change, and the same
    few sales words come back in most searches."""

    def __init__(self, budget: int = POSTINGS_CACHE_BYTES):
        self.budget = budget
        self._entries: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def get(self, key: tuple, load) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        found = load()
        size = found[0].nbytes + found[1].nbytes
        with self._lock:
            if key not in self._entries and size <= self.budget // 8:
                self._entries[key] = found
                self._bytes += size
                while self._bytes > self.budget:
                    _, (ids, weights) = self._entries.popitem(last=False)
                    self._bytes -= ids.nbytes + weights.nbytes
        return found


class FacetCodes:
    """One code per (facet, value) over every segment of the process (values are
    few and never forgotten), so that a segment's facets are counted with one
    bincount and the counts of every segment add up in one array."""

    def __init__(self):
        self.keys: list[tuple[str, str]] = []
        self._codes: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def codes(self, name: str, values: list[str]) -> np.ndarray:
        with self._lock:
            for value in values:
                if (name, value) not in self._codes:
                    self._codes[(name, value)] = len(self.keys)
                    self.keys.append((name, value))
            return np.array([self._codes[(name, value)] for value in values], dtype=np.int64)


FACET_CODES = FacetCodes()


class SegmentData:
    """What queries need from one immutable segment, read once and shared by
    every searcher that holds it: facet values as codes, tags, sort columns,
    field lengths and cached filter masks; its postings go through the index's
    shared cache, and the word order of its text fields is read when a phrase
    first needs it."""

    def __init__(self, reader, scorable_fields: tuple[str, ...], postings_cache: PostingsCache):
        self.size = reader.doc_count_all()
        self.postings_cache = postings_cache
        self.serial = next(_SERIALS)  # names this segment's entries in the shared cache
        self.facet_values: dict[str, list[str]] = {}
        self.facet_codes: dict[str, np.ndarray] = {}
        for name in SINGLE_FACETS:  # few values each: read from their postings
            values, codes = [""], np.zeros(self.size, dtype=np.int64)
            for term in reader.lexicon(name):
                codes[read_postings(reader, name, term, with_weights=False)[0]] = len(values)
                values.append(_text(term))
            self.facet_values[name], self.facet_codes[name] = values, codes
        tag_docs, tag_codes, self.tag_values = [], [], []
        for term in reader.lexicon("tags"):
            docs, _ = read_postings(reader, "tags", term, with_weights=False)
            tag_docs.append(docs)
            tag_codes.append(np.full(len(docs), len(self.tag_values), dtype=np.int64))
            self.tag_values.append(_text(term))
        self.tag_docs = np.concatenate(tag_docs) if tag_docs else EMPTY_IDS
        self.tag_codes = np.concatenate(tag_codes) if tag_codes else EMPTY_IDS
        self.columns = {name: numeric_field_column(reader, name)
                        for name in ("rating", "usage", "updated", "expires", *GROUP_COLUMNS, *ID_COLUMNS.values())
                        if name in reader.schema}
        # Each document's facet values, and each tag posting's, as codes of FACET_CODES.
        self.facet_matrix = np.array([FACET_CODES.codes(name, self.facet_values[name])[self.facet_codes[name]]
                                      for name in SINGLE_FACETS], dtype=np.int64).reshape(len(SINGLE_FACETS), self.size)
        self.tag_facet_codes = FACET_CODES.codes("tag", self.tag_values)[self.tag_codes]
        self.published = self.mask(read_postings(reader, "status", "published", with_weights=False)[0])
        self.lengths = {name: field_lengths(reader, name) for name in scorable_fields}
        self._filters: dict[tuple, np.ndarray] = {}
        self._word_orders: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()

    def mask(self, docnums: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        mask[docnums] = True
        return mask

    @staticmethod
    def segments(searcher) -> list[tuple[object, int]]:
        """(segment searcher, its first document's local number): this one segment
        (a run of small segments has several: search/runs.py)."""
        return [(searcher, 0)]

    def postings(self, reader, fieldname: str, text) -> tuple[np.ndarray, np.ndarray]:
        return self.postings_cache.get((self.serial, fieldname, text), lambda: read_postings(reader, fieldname, text))

    def word_order(self, reader, fieldname: str) -> tuple[np.ndarray, np.ndarray]:
        """The field's word order for every document (search/sequences.py): the
        segment's hashes one after another, and each document's offsets into them;
        read once per segment and process, by the first phrase that needs them."""
        found = self._word_orders.get(fieldname)
        if found is None:
            found = bytes_column(reader, fieldname, SEQUENCE_DTYPE)
            with self._lock:
                found = self._word_orders.setdefault(fieldname, found)
        return found

    def phrase_documents(self, reader, fieldname: str, hashes: list[int], candidates: np.ndarray,
                         anchor: int) -> np.ndarray:
        """The candidates (sorted local docnums) whose word order holds the hashes in a row."""
        return phrase_documents(*self.word_order(reader, fieldname), hashes, candidates, anchor)

    def allowed(self, reader, filters: tuple[tuple[str, str], ...], visible_on: int | None) -> np.ndarray | None:
        """Documents passing the facet filters and the visibility rule (None: all)."""
        if not filters and visible_on is None:
            return None
        key = (filters, visible_on)
        with self._lock:
            cached = self._filters.get(key)
        if cached is None:
            cached = np.ones(self.size, dtype=bool)
            for name, value in filters:
                cached &= self.mask(read_postings(reader, name, value, with_weights=False)[0])
            if visible_on is not None:
                cached &= self.published & (self.columns["expires"] >= visible_on)
            with self._lock:
                if len(self._filters) > 256:
                    self._filters.clear()
                self._filters[key] = cached
        return cached


class SegmentCache:
    """SegmentData by segment id, for every searcher of one process; segments
    merged away are forgotten once the live ones are far fewer."""

    def __init__(self):
        self._segments: dict[str, SegmentData] = {}
        self._lock = threading.Lock()
        self._postings = PostingsCache()

    def segment(self, reader) -> SegmentData:
        segment = reader.segment()
        key = segment.segment_id() if segment is not None else f"anon-{id(reader)}"
        data = self._segments.get(key)
        if data is None:
            with self._lock:
                data = self._segments.get(key)
                if data is None:
                    data = SegmentData(reader, SCORED_FIELDS, self._postings)
                    self._segments[key] = data
        return data

    def leaves(self, searcher) -> list[tuple[object, int, SegmentData, np.ndarray | None]]:
        """(segment searcher, docnum offset, cached segment data, live-documents
        mask) per non-empty segment, consecutive small segments joined into one
        leaf (search/runs.py); kept on the searcher, which never changes."""
        leaves = searcher.__dict__.get("_collateral_leaves")
        if leaves is None:
            segments = []
            for sub, offset in searcher.leaf_searchers():
                reader = sub.reader()
                if reader.doc_count_all() == 0:
                    continue
                data = self.segment(reader)
                live = None
                if reader.has_deletions():
                    live = ~data.mask(np.fromiter(reader.deleted_docs_set, dtype=np.int64))
                segments.append((sub, offset, data, live))
            leaves = runs.join_small_segments(segments)
            searcher.__dict__["_collateral_leaves"] = leaves
            with self._lock:  # forget segments merged away
                current = {data for _, _, data, _ in segments}
                if len(self._segments) > 4 * max(1, len(current)) + 16:
                    self._segments = {k: v for k, v in self._segments.items() if v in current}
        return leaves

    def drop_cached_postings(self) -> None:
        """Forget the postings kept in memory; the next searches read them from disk."""
        self._postings.clear()


class SegmentKeys:
    """The id columns (asset_key, page_key) of committed segments, by segment:
    what the writer needs to find the documents an update replaces, read once
    per segment and process instead of opening every segment per write."""

    LIMIT = 512  # columns kept; past it the cache starts again (segments merged away)

    def __init__(self):
        self._columns: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()

    def column(self, writer, segment, name: str) -> np.ndarray:
        key = (segment.segment_id(), name)
        found = self._columns.get(key)
        if found is None:
            found = segment_column(writer, segment, name)
            with self._lock:
                if len(self._columns) >= self.LIMIT:
                    self._columns.clear()
                self._columns[key] = found
        return found


SEGMENT_KEYS = SegmentKeys()
