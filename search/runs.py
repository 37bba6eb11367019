"""Small segments searched as one.

Every segment costs a query a fixed share whatever its size: its postings looked
up, a mask and scores built, its facets counted and its best hits picked (some
tens of numpy calls). Single-asset commits leave small segments between merges
(search/merging.py keeps fewer than FACTOR per tier: six to eleven after
1,000 commits), and each cost a query as much as a segment of 40,000 pages: on the
10,000-asset bench, asset queries took 1.4-1.9x as long after 1,000 commits.

So a searcher's consecutive segments of at most RUN_BELOW documents each (every
segment of the assets index up to 20,000 assets; the small ones of the pages
index) are searched as one (SegmentRun), up to RUN_LIMIT documents a run: their
cached data (search/segments.py) laid end to end once per searcher, a term's
postings once per term and searcher. A run answers what a segment's data answers
(size, columns, facet codes, tags, lengths, masks, postings, filter masks,
phrases), so matching, ranking, facets and grouping do not know the difference;
the documents keep their numbers (the parts are consecutive, so a run's local
number plus its offset is the searcher's docnum, as for a segment). Scores do
not change: BM25F's statistics are the whole index's either way
(search/matching.py). A phrase's word order is read part by part, never copied:
it is the largest thing a segment holds.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

import search.segments  # the module: search/segments.py imports this one

if TYPE_CHECKING:
    from search.segments import SegmentData

RUN_BELOW = 2_048  # documents: segments this small are searched with their small neighbours
RUN_LIMIT = 20_000  # documents in one run (what a run lays end to end per searcher stays small)
RUN_POSTINGS_BYTES = 2**20  # joined postings a run keeps (each pooled searcher has its runs)
RUN_FILTERS = 256  # filter masks a run keeps


class SegmentRun:
    """Consecutive small segments of one searcher, searched as one segment. It
    stands in both for the segment's searcher and for its data in a leaf; the
    `reader` arguments of its methods are ignored (each part reads through its own)."""

    def __init__(self, leaves: list[tuple[object, int, SegmentData, np.ndarray | None]]):
        start = leaves[0][1]
        self.parts = [(sub, offset - start, data) for sub, offset, data, _ in leaves]
        datas = [data for _, _, data in self.parts]
        self.size = sum(data.size for data in datas)
        names = set.intersection(*(set(data.columns) for data in datas))
        self.columns = {name: np.concatenate([data.columns[name] for data in datas]) for name in names}
        self.facet_matrix = np.concatenate([data.facet_matrix for data in datas], axis=1)
        self.tag_docs = np.concatenate([data.tag_docs + shift for _, shift, data in self.parts])
        self.tag_facet_codes = np.concatenate([data.tag_facet_codes for data in datas])
        self.published = np.concatenate([data.published for data in datas])
        self.lengths = {name: np.concatenate([data.lengths[name] for data in datas]) for name in datas[0].lengths}
        self.live = None
        if any(live is not None for *_, live in leaves):
            self.live = np.concatenate([live if live is not None else np.ones(data.size, dtype=bool)
                                        for _, _, data, live in leaves])
        self._postings = search.segments.PostingsCache(RUN_POSTINGS_BYTES)
        self._filters: dict[tuple, np.ndarray] = {}
        self._lock = threading.Lock()

    # As a leaf's searcher:
    def reader(self) -> None:
        return None

    def segments(self, _searcher=None) -> list[tuple[object, int]]:
        """(segment searcher, its first document's local number) per part."""
        return [(sub, shift) for sub, shift, _ in self.parts]

    # As a leaf's data:
    def mask(self, docnums: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        mask[docnums] = True
        return mask

    def postings(self, _reader, fieldname: str, text) -> tuple[np.ndarray, np.ndarray]:
        return self._postings.get((fieldname, text), lambda: self._joined_postings(fieldname, text))

    def _joined_postings(self, fieldname: str, text) -> tuple[np.ndarray, np.ndarray]:
        pieces = [(data.postings(sub.reader(), fieldname, text), shift) for sub, shift, data in self.parts]
        return (np.concatenate([ids + shift for (ids, _), shift in pieces]),
                np.concatenate([weights for (_, weights), _ in pieces]))

    def phrase_documents(self, _reader, fieldname: str, hashes: list[int], candidates: np.ndarray,
                         anchor: int) -> np.ndarray:
        """The candidates (sorted local docnums) holding the hashes in a row, part by part."""
        found = []
        starts = [shift for _, shift, _ in self.parts]
        bounds = np.searchsorted(candidates, starts + [self.size])
        for (sub, shift, data), low, high in zip(self.parts, bounds[:-1], bounds[1:], strict=True):
            if high > low:
                found.append(shift + data.phrase_documents(sub.reader(), fieldname, hashes,
                                                           candidates[low:high] - shift, anchor))
        return np.concatenate(found) if found else candidates[:0]

    def allowed(self, _reader, filters: tuple[tuple[str, str], ...], visible_on: int | None) -> np.ndarray | None:
        if not filters and visible_on is None:
            return None
        key = (filters, visible_on)
        found = self._filters.get(key)
        if found is None:
            pieces = [data.allowed(sub.reader(), filters, visible_on) for sub, _, data in self.parts]
            found = np.concatenate([piece if piece is not None else np.ones(data.size, dtype=bool)
                                    for piece, (_, _, data) in zip(pieces, self.parts, strict=True)])
            with self._lock:
                if len(self._filters) >= RUN_FILTERS:
                    self._filters.clear()
                self._filters[key] = found
        return found


def join_small_segments(leaves: list[tuple[object, int, SegmentData, np.ndarray | None]]) -> list[tuple]:
    """The leaves with each run of two or more consecutive small segments replaced
    by one leaf (run, offset of its first document, run, its live mask)."""
    joined: list[tuple] = []
    run: list[tuple] = []

    def close_run() -> None:
        if len(run) >= 2:
            whole = SegmentRun(run)
            joined.append((whole, run[0][1], whole, whole.live))
        else:
            joined.extend(run)
        run.clear()

    for leaf in leaves:
        _, offset, data, _ = leaf
        if data.size > RUN_BELOW:
            close_run()
            joined.append(leaf)
            continue
        if run and (run[-1][1] + run[-1][2].size != offset  # not next to the run (never, in a searcher)
                    or offset + data.size - run[0][1] > RUN_LIMIT):
            close_run()
        run.append(leaf)
    close_run()
    return joined
