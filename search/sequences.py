"""Word order for phrases, kept apart from the postings (as Lucene keeps positions
apart from frequencies).

The title and body fields index frequencies only: their postings are what every
query reads, and they stay small and fast. Each document's words in order are
kept in the same field's column, as 32-bit hashes of their stems (`SequencedText`).
Only phrase queries read those columns, and only to confirm the documents that
already hold every word of the phrase (matching.py finds those with the postings):
the phrase's hashes must follow each other within one document
(`phrase_documents`, numpy over the segment's whole column at once).

A hash can stand for two stems (about 1 in 4 billion pairs of distinct words):
a phrase is then also found where the other word stands in its place, but only
in documents that hold every word of the phrase itself.

Indexing analyses each text once (`IndexAnalysis`, the same tokens as
schema.ANALYZER, several times faster) for the postings, the word-order column
and the spelling words together; Whoosh would run its analyzer once for each.
"""

from __future__ import annotations

import re
import threading
import zlib
from array import array
from collections import Counter
from dataclasses import dataclass

import numpy as np
from whoosh import columns
from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import TEXT
from whoosh.system import pack_uint

SEQUENCE_DTYPE = np.dtype("<u4")
EMPTY_DOCS = np.zeros(0, dtype=np.int64)


def word_hash(stem: str) -> int:
    """The 32-bit hash a stem is kept as in the word-order columns."""
    return zlib.crc32(stem.encode("utf-8"))


@dataclass
class Analysed:
    words: list[str]  # lowercased, stop words removed (what spelling suggests)
    stems: list[str]  # the indexed terms, in order
    hashes: list[int]  # word_hash of each stem


class _Known(dict):
    """Raw token -> (word, stem, hash), or None for a stop word; learnt on first sight."""

    def __init__(self, learn):
        super().__init__()
        self.learn = learn

    def __missing__(self, raw):
        value = self[raw] = self.learn(raw)
        return value


class IndexAnalysis:
    """The tokens a Whoosh analyzer of the shape RegexTokenizer | LowercaseFilter |
    StopFilter | StemFilter yields in "index" mode, computed with one regular
    expression call and a dictionary of the tokens seen so far."""

    MAX_KNOWN = 200_000  # distinct raw tokens remembered (then forgotten at once)

    def __init__(self, analyzer):
        tokenizer, lowercase, stop, stemmer = analyzer.items
        if not (isinstance(tokenizer, RegexTokenizer) and not tokenizer.gaps and isinstance(lowercase, LowercaseFilter)
                and isinstance(stop, StopFilter) and isinstance(stemmer, StemFilter)):
            raise TypeError(f"IndexAnalysis cannot stand for {analyzer!r}")
        expression = tokenizer.expression
        # The same pattern without capturing groups, so that findall returns whole matches.
        plain = re.compile(re.sub(r"(?<!\\)\((?!\?)", "(?:", expression.pattern), expression.flags)
        if plain.groups:
            self._tokens = lambda text: [match.group() for match in expression.finditer(text)]
        else:
            self._tokens = plain.findall
        self._stops, self._min, self._max = stop.stops, stop.min, stop.max
        self._stem, self._ignore = stemmer.stemfn, stemmer.ignore
        self._known = _Known(self._learn)

    @staticmethod
    def signature(analyzer) -> tuple:
        """What the tokens depend on: equal analyzers share one IndexAnalysis."""
        tokenizer, _, stop, stemmer = analyzer.items
        stemfn = stemmer.stemfn
        return (tokenizer.expression.pattern, tokenizer.expression.flags, frozenset(stop.stops), stop.min, stop.max,
                f"{stemfn.__module__}.{stemfn.__qualname__}", frozenset(stemmer.ignore or ()))

    def _learn(self, raw: str) -> tuple[str, str, int] | None:
        word = raw.lower()
        if len(word) < self._min or (self._max and len(word) > self._max) or word in self._stops:
            return None
        stem = word if word in self._ignore else self._stem(word)
        return word, stem, word_hash(stem)

    def __call__(self, text: str) -> Analysed:
        known = self._known
        if len(known) > self.MAX_KNOWN:
            known.clear()
        kept = [entry for entry in [known[raw] for raw in self._tokens(text)] if entry is not None]
        return Analysed([entry[0] for entry in kept], [entry[1] for entry in kept], [entry[2] for entry in kept])


_LAST = threading.local()  # the last text analysed by this thread: a field reads it up to three times


class SequencedText(TEXT):
    """A TEXT field (frequencies only) whose column holds each document's stems in
    order as 32-bit hashes (little-endian), for phrases. Analysed once per value
    for its postings, its column and its spelling words.

    Spelling words (with spelling=True) are handed to Whoosh once per segment
    written: Whoosh files each under document 0 of a separate field, whose terms
    are all "did you mean" reads, so a word repeated in every document only made
    the segment slower to write. Whoosh unpickles a new schema for every writer;
    start_segment() also forgets the words handed over."""

    def __init__(self, analyzer, **options):
        super().__init__(analyzer=analyzer, phrase=False, sortable=columns.VarBytesColumn(), **options)
        self._spelled: set[str] = set()

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_spelled", None)  # never pickled into the index's table of contents
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._spelled = set()

    def start_segment(self) -> None:
        """A new writer: every spelling word is new to its segment."""
        self._spelled = set()

    def _analysed(self, value: str) -> Analysed:
        last = getattr(_LAST, "value", None)
        if last is not None and last[0] is value and last[1] is self.analyzer:
            return last[2]
        analysed = _analysis(self.analyzer)(value)
        _LAST.value = (value, self.analyzer, analysed)
        return analysed

    def index(self, value, **kwargs):
        if not isinstance(value, str):  # pre-split words: as TEXT does
            yield from super().index(value, **kwargs)
            return
        boost = self.format.field_boost
        for stem, frequency in Counter(self._analysed(value).stems).items():
            yield stem.encode("utf-8"), frequency, frequency * boost, pack_uint(frequency)

    def spellable_words(self, value):
        words = set(self._analysed(value).words if isinstance(value, str) else super().spellable_words(value))
        new = words - self._spelled
        self._spelled |= new
        return iter(sorted(new))

    def to_column_value(self, value) -> bytes:
        if isinstance(value, str):
            hashes = self._analysed(value).hashes
        else:
            hashes = [word_hash(stem) for stem in self.process_text(" ".join(value), mode="index")]
        return _to_bytes(hashes)

    def from_column_value(self, value) -> bytes:
        return value


if np.little_endian and array("I").itemsize == 4:
    def _to_bytes(hashes: list[int]) -> bytes:
        return array("I", hashes).tobytes()
else:  # pragma: no cover
    def _to_bytes(hashes: list[int]) -> bytes:
        return np.asarray(hashes, dtype=SEQUENCE_DTYPE).tobytes()

_ANALYSES: dict[tuple, IndexAnalysis] = {}
_ANALYSES_BY_ID: dict[int, tuple[object, IndexAnalysis]] = {}


def _analysis(analyzer) -> IndexAnalysis:
    """The IndexAnalysis of an analyzer, shared by every equal analyzer (each
    opened index unpickles its own), so the tokens learnt outlive a writer."""
    found = _ANALYSES_BY_ID.get(id(analyzer))
    if found is not None and found[0] is analyzer:
        return found[1]
    signature = IndexAnalysis.signature(analyzer)
    analysis = _ANALYSES.get(signature)
    if analysis is None:
        analysis = _ANALYSES[signature] = IndexAnalysis(analyzer)
    if len(_ANALYSES_BY_ID) > 64:
        _ANALYSES_BY_ID.clear()
    _ANALYSES_BY_ID[id(analyzer)] = (analyzer, analysis)
    return analysis


def phrase_documents(stream: np.ndarray, offsets: np.ndarray, hashes: list[int], candidates: np.ndarray,
                     anchor: int = 0) -> np.ndarray:
    """The candidates (sorted local docnums) whose word order holds the hashes in a row.

    `stream` is a segment's column (every document's hashes, one after another),
    document d's words are stream[offsets[d]:offsets[d + 1]]; `anchor` is the
    phrase word to look for first (the rarest one)."""
    if not len(candidates):
        return EMPTY_DOCS
    count = len(hashes)
    starts, ends = offsets[candidates], offsets[candidates + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    if total < count:
        return EMPTY_DOCS
    if total * 3 >= len(stream):  # most of the segment: scan it whole
        tokens, where = stream, None
    else:  # the candidates' words only
        where = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(total, dtype=np.int64)
        tokens = stream[where]
    found = np.flatnonzero(tokens == hashes[anchor]) - anchor
    found = found[(found >= 0) & (found <= len(tokens) - count)]
    for k, value in enumerate(hashes):
        if k != anchor and len(found):
            found = found[tokens[found + k] == value]
    if not len(found):
        return EMPTY_DOCS
    if where is not None:
        found = where[found]
    docs = np.searchsorted(offsets, found, side="right") - 1
    docs = docs[found + count <= offsets[docs + 1]]  # the whole run within one document
    return np.intersect1d(docs, candidates)
