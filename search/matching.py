"""Matching, scoring and ranking in bulk, one immutable segment at a time, with numpy.

Whoosh walks postings one Python call per document, which on a large library
costs tens of milliseconds for one common word and seconds for a phrase. Here a
term's postings are read block by block into arrays (search/whoosh_internals.py,
cached by search/segments.py), a query becomes a boolean
mask over the segment's documents plus a BM25F score per document (the same
formula and statistics as Whoosh's default weighting), and totals, facets,
sorting and the top hits are array operations.

Phrases: the documents holding every word of the phrase come from the postings;
the word order kept in the field's column (search/sequences.py) then confirms
which of them hold the words in a row (SegmentData.phrase_documents).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from whoosh import query as q

from search.schema import SEQUENCED_FIELDS, SINGLE_FACETS
from search.segments import FACET_CODES, SegmentData
from search.sequences import word_hash
from search.whoosh_internals import is_null_query, prefix_expansions, read_postings

B, K1 = 0.75, 1.2  # Whoosh's BM25F defaults
# Words a query's prefixes (pric*) may expand to, all prefixes together, per segment:
# 166 one-letter prefixes once read 85,000 posting lists (1-2 s for one search).
MAX_EXPANDED_TERMS = 512


class CollectionStats:
    """Statistics of the whole index (all segments), as BM25F needs them. A term's
    document frequency is the length of its postings in every segment (deleted
    documents included, as Whoosh counts it), read through the postings cache
    that the matching reads next."""

    def __init__(self, searcher, leaves: list | None = None):
        self.searcher = searcher
        self.leaves = leaves
        self.doc_count = max(1, searcher.doc_count_all())
        self._idf: dict[tuple, float] = {}
        self._avg: dict[str, float] = {}

    def idf(self, fieldname: str, text) -> float:
        key = (fieldname, text)
        if key not in self._idf:
            if self.leaves is None:
                frequency = self.searcher.doc_frequency(fieldname, text)
            else:
                frequency = sum(len(data.postings(sub.reader(), fieldname, text)[0])
                                for sub, _, data, _ in self.leaves)
            self._idf[key] = float(np.log(self.doc_count / (frequency + 1)) + 1)
        return self._idf[key]

    def average_length(self, fieldname: str) -> float:
        if fieldname not in self._avg:
            self._avg[fieldname] = self.searcher.avg_field_length(fieldname) or 1.0
        return self._avg[fieldname]

@dataclass
class Match:
    """One segment's part of a result: which documents match and how well."""

    offset: int  # global docnum of the segment's first document
    data: SegmentData
    mask: np.ndarray
    scores: np.ndarray | None


class SegmentMatcher:
    """Turns a Whoosh query into (mask, scores) over one segment's documents."""

    def __init__(self, searcher, data: SegmentData, stats: CollectionStats, scored: bool,
                 allowed: np.ndarray | None = None):
        self.searcher = searcher  # the segment's own searcher (a run of small segments: search/runs.py)
        self.reader = searcher.reader()
        self.data = data
        self.stats = stats
        self.scored = scored
        # The live documents the filters let through (None: all): the caller keeps only these,
        # so the costly checks (a phrase's word order) need not look at the others.
        self.allowed = allowed
        self.expansions_left = defaultdict(lambda: MAX_EXPANDED_TERMS)  # per segment (a run has several)

    def evaluate(self, query: q.Query) -> tuple[np.ndarray, np.ndarray | None]:
        return self._evaluate(query, self.scored)

    def _evaluate(self, query: q.Query, scored: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """The query's documents and, when scored, their scores: zero wherever the
        mask is False, so that a parent Or adds only the parts that matched."""
        data = self.data
        if isinstance(query, q.Term):
            return self._term(query.fieldname, query.text, query.boost, scored)
        if isinstance(query, q.Every):
            return np.ones(data.size, dtype=bool), None
        if is_null_query(query):
            return np.zeros(data.size, dtype=bool), None
        if isinstance(query, q.And):
            children = list(query.children())
            positive = [c for c in children if not isinstance(c, q.Not)]
            negative = [c.query for c in children if isinstance(c, q.Not)]
            mask, scores = (self._all(positive, scored, np.logical_and) if positive
                            else (np.ones(data.size, dtype=bool), None))
            for child in negative:
                if mask.any():
                    mask &= ~self._evaluate(child, False)[0]
            return mask, self._boosted(_within(mask, scores), query)
        if isinstance(query, q.Or | q.DisjunctionMax):
            mask, scores = self._all(query.children(), scored, np.logical_or)
            return mask, self._boosted(scores, query)
        if isinstance(query, q.Require):  # both must match; only the first is scored
            mask, scores = self._evaluate(query.a, scored)
            mask = mask & self._evaluate(query.b, False)[0]
            return mask, _within(mask, scores)
        if isinstance(query, q.AndNot):
            mask, scores = self._evaluate(query.a, scored)
            mask = mask & ~self._evaluate(query.b, False)[0]
            return mask, _within(mask, scores)
        if isinstance(query, q.AndMaybe):
            mask, scores = self._evaluate(query.a, scored)
            if scored:
                _, extra = self._evaluate(query.b, True)
                scores = _within(mask, _add(scores, extra))
            return mask, scores
        if isinstance(query, q.Not):
            return ~self._evaluate(query.query, False)[0], None
        if isinstance(query, q.Prefix):
            return self._prefix(query, scored)
        if isinstance(query, q.Phrase):
            return self._phrase(query, scored)
        docs = [first + np.fromiter(query.docs(sub), dtype=np.int64)  # kinds the parser rarely makes
                for sub, first in data.segments(self.searcher)]
        return data.mask(np.concatenate(docs)), None

    def _all(self, children, scored: bool, combine) -> tuple[np.ndarray, np.ndarray | None]:
        mask, scores = None, None
        for child in children:
            child_mask, child_scores = self._evaluate(child, scored)
            mask = child_mask if mask is None else combine(mask, child_mask)
            scores = _add(scores, child_scores)
        if mask is None:
            mask = np.zeros(self.data.size, dtype=bool)
        return mask, scores

    @staticmethod
    def _boosted(scores: np.ndarray | None, query: q.Query) -> np.ndarray | None:
        boost = getattr(query, "boost", 1.0)
        return scores * boost if scores is not None and boost != 1.0 else scores

    def _term(self, fieldname: str, text, boost: float, scored: bool) -> tuple[np.ndarray, np.ndarray | None]:
        data = self.data
        ids, weights = data.postings(self.reader, fieldname, text)
        mask = data.mask(ids)
        if not scored or not len(ids):
            return mask, None
        scores = np.zeros(data.size, dtype=np.float32)
        lengths = data.lengths.get(fieldname)
        if lengths is None:  # an unscored field (facets, ids): a plain match
            scores[ids] = boost
            return mask, scores
        idf = self.stats.idf(fieldname, text)
        norm = K1 * ((1 - B) + B * lengths[ids] / self.stats.average_length(fieldname))
        scores[ids] = boost * idf * (weights * (K1 + 1)) / (weights + norm)
        return mask, scores

    def _prefix(self, query: q.Prefix, scored: bool) -> tuple[np.ndarray, np.ndarray | None]:
        mask = np.zeros(self.data.size, dtype=bool)
        for n, (sub, first) in enumerate(self.data.segments(self.searcher)):
            reader = sub.reader()
            for text in prefix_expansions(query, reader):
                if self.expansions_left[n] <= 0:
                    break
                self.expansions_left[n] -= 1
                mask[first + read_postings(reader, query.fieldname, text, with_weights=False)[0]] = True
        # Every match scores the prefix's boost, as Whoosh's Prefix means to
        # (constantscore=True; 2.7.5 keeps it only for some indexes: see tests/search/test_parity.py).
        return mask, (mask * np.float32(query.boost)) if scored else None

    def _phrase(self, query: q.Phrase, scored: bool) -> tuple[np.ndarray, np.ndarray | None]:
        words = list(query.words)
        if len(words) == 1:
            return self._term(query.fieldname, words[0], query.boost, scored)
        if query.fieldname not in SEQUENCED_FIELDS:  # a field without word order (tags): every word, any order
            return self._evaluate(q.And([q.Term(query.fieldname, w, boost=query.boost) for w in words]), scored)
        # The documents holding every word, ranked by those words...
        mask, scores, rarest, fewest = None, None, 0, None
        for n, word in enumerate(words):
            word_mask, word_scores = self._term(query.fieldname, word, query.boost, scored)
            mask = word_mask if mask is None else mask & word_mask
            scores = _add(scores, word_scores)
            count = int(np.count_nonzero(word_mask))
            if fewest is None or count < fewest:
                rarest, fewest = n, count
            if not mask.any():
                return mask, None
        # ...of which those holding them in a row (of the documents the caller keeps).
        candidates = mask if self.allowed is None else mask & self.allowed
        found = self.data.phrase_documents(self.reader, query.fieldname, [word_hash(w) for w in words],
                                           np.flatnonzero(candidates), rarest)
        mask = self.data.mask(found)
        if not scored:
            return mask, None
        return mask, (scores * mask) if scores is not None else None


def _within(mask: np.ndarray, scores: np.ndarray | None) -> np.ndarray | None:
    """Scores of the documents in the mask, zero elsewhere (a narrowed result
    keeps no score from a part that matched only the documents it dropped)."""
    return scores * mask if scores is not None else None


def _add(scores: np.ndarray | None, more: np.ndarray | None) -> np.ndarray | None:
    if more is None:
        return scores
    if scores is None:
        return more.astype(np.float32, copy=True)
    scores += more
    return scores


def count_matches(matches: list[Match]) -> int:
    return sum(int(np.count_nonzero(match.mask)) for match in matches)


def facet_counts(matches: list[Match], excess: np.ndarray | None = None) -> dict[str, dict[str, int]]:
    """Counts per facet value over the whole filtered result, most frequent first:
    one bincount per segment over the codes of its matches' facet values and
    tags (every segment's values have codes once its data is read). `excess`:
    per code, what to take off (copies counted beyond one per lineage group)."""
    keys = FACET_CODES.keys
    size = len(keys)
    total = np.zeros(size, dtype=np.int64)
    if excess is not None:
        total[:len(excess)] -= excess
    for match in matches:
        data = match.data
        local = np.flatnonzero(match.mask)
        if not len(local):
            continue
        codes = data.facet_matrix[:, local].ravel()
        if len(data.tag_facet_codes):
            codes = np.concatenate([codes, data.tag_facet_codes[match.mask[data.tag_docs]]])
        total += np.bincount(codes, minlength=size)[:size]
    facets: dict[str, dict[str, int]] = {name: {} for name in (*SINGLE_FACETS, "tag")}
    for code in np.flatnonzero(total).tolist():
        name, value = keys[code]
        if value:  # "" stands for "not set"
            facets[name][value] = int(total[code])
    return {name: dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))) for name, counts in facets.items()}


def top_by_relevance(matches: list[Match], depth: int) -> list[tuple[int, float]]:
    """The depth best (global docnum, score): text relevance nudged by rating and
    usage, so a well-rated, much-used item moves above a slightly better text
    match, never above a far better one."""
    docnums, scores = [], []
    for match in matches:
        local = np.flatnonzero(match.mask)
        if not len(local):
            continue
        blended = blended_relevance(match, local)
        keep = _best(blended, depth)
        docnums.append(local[keep] + match.offset)
        scores.append(blended[keep])
    if not docnums:
        return []
    docnums, scores = np.concatenate(docnums), np.concatenate(scores)
    order = np.lexsort((docnums, -scores))[:depth]  # best first; ties in index order
    return list(zip(docnums[order].tolist(), scores[order].tolist(), strict=True))


def blended_relevance(match: Match, local: np.ndarray) -> np.ndarray:
    """Text relevance of these documents of a segment, nudged by rating and usage."""
    relevance = match.scores[local] if match.scores is not None else np.zeros(len(local), np.float32)
    rating = match.data.columns["rating"][local] / 100.0
    usage = match.data.columns["usage"][local]
    return relevance * (1 + 0.04 * rating + 0.05 * np.log1p(usage))


def top_by_column(matches: list[Match], column: str, depth: int) -> list[int]:
    """The depth best global docnums by a stored column, newest first on ties."""
    keys = []
    for match in matches:
        local = np.flatnonzero(match.mask)
        if not len(local):
            continue
        values, updated = match.data.columns[column][local], match.data.columns["updated"][local]
        keep = np.lexsort((-local, -updated, -values))[:depth]
        keys.append((values[keep], updated[keep], local[keep] + match.offset))
    if not keys:
        return []
    values, updated, docnums = (np.concatenate(parts) for parts in zip(*keys, strict=True))
    return docnums[np.lexsort((-docnums, -updated, -values))[:depth]].tolist()


def _best(values: np.ndarray, depth: int) -> np.ndarray:
    """Indexes of the depth largest values (unordered; all of them when fewer)."""
    if len(values) <= depth:
        return np.arange(len(values))
    return np.argpartition(-values, depth - 1)[:depth]
