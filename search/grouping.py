"""Slide search shows each lineage group once (copies of one slide across decks,
portal/decks/lineage.py), over the whole result rather than one page of it.

Every page document carries its group as a column (a slide alone is a group of
its own id, search/documents.py). Over the matched documents of every segment,
in numpy: a slide whose group is another slide's id is a copy; only the groups
where a copy matched are sorted (most slides stand alone), and each group's
best-ranked member gives the group its rank; the best groups are cut for the
page asked for; the members of that page's groups only are then ordered newest
published copy first. The total and the facet counts count groups, not copies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from search.matching import Match, blended_relevance
from search.segments import FACET_CODES

MAX_OTHERS = 50  # copies listed under one hit (a group of boilerplate slides can be large)


@dataclass
class GroupHit:
    docnum: int  # the copy shown: the newest published one among the group's matches
    score: float  # the group's rank: its best-ranked member's
    others: list[int]  # page ids of the group's other matching copies, newest published first


@dataclass
class GroupedResult:
    hits: list[GroupHit]  # the depth best groups from `start` on, best first
    total: int  # groups with at least one match
    facet_excess: np.ndarray  # per facet code: how many more copies than groups it counted


class _Matched:
    """The matched documents of every segment as flat arrays in docnum order: only
    what every match needs (rank and group); the rest is read for the few that need it."""

    def __init__(self, matches: list[Match], rank_column: str | None):
        self.matches = [match for match in matches if match.mask.any()]
        parts = []
        for match in self.matches:
            local = np.flatnonzero(match.mask)
            columns = match.data.columns
            rank = columns[rank_column][local].astype(np.float64) if rank_column else blended_relevance(match, local)
            groups = columns["group"][local]
            # A copy whose group is another slide's id (a group's first slide has its own).
            parts.append((local + match.offset, rank, groups, groups != columns["page_key"][local]))
        arrays = ([np.concatenate(part) for part in zip(*parts, strict=True)] if parts
                  else [np.zeros(0, dtype=dtype) for dtype in (np.int64, np.float64, np.int64, bool)])
        self.docnums, self.rank, self.groups, self.follows = arrays
        self.offsets = np.array([match.offset for match in self.matches], dtype=np.int64)

    def by_segment(self, members: np.ndarray):
        """(segment's match, members of it, their local docnums) for these members."""
        segments = np.searchsorted(self.offsets, self.docnums[members], side="right") - 1
        for ordinal in _distinct(segments).tolist():
            here = members[segments == ordinal]
            match = self.matches[ordinal]
            yield match, here, self.docnums[here] - match.offset

    def newest_first(self, members: np.ndarray, groups: np.ndarray, newest_on: int) -> tuple[np.ndarray, ...]:
        """Members (sorted) ordered by their group's place in `groups` (positions), then
        as the copy to show first: published (what reps may see that day), then the
        newest version, then the newest slide (the highest page id). Returns the
        members, their group positions and their page ids in that order."""
        keys = np.zeros((4, len(members)), dtype=np.int64)
        for match, here, local in self.by_segment(members):
            columns = match.data.columns
            at = np.searchsorted(members, here)
            keys[0, at] = match.data.published[local] & (columns["expires"][local] >= newest_on)
            keys[1, at] = columns["version_created"][local]
            keys[2, at] = columns["page_key"][local]
        keys[3] = groups
        order = np.lexsort((-keys[2], -keys[1], -keys[0], keys[3]))
        return members[order], keys[3][order], keys[2][order]


def top_groups(matches: list[Match], depth: int, newest_on: int, rank_column: str | None = None,
               start: int = 0) -> GroupedResult:
    """The depth best lineage groups (ranked by relevance, or by `rank_column`
    when browsing); from `start` on, each shown as its newest published matching copy."""
    found = _Matched(matches, rank_column)
    if not len(found.docnums):
        return GroupedResult([], 0, np.zeros(len(FACET_CODES.keys), dtype=np.int64))
    # Most slides have no copy among the matches: only the groups where a copy
    # matched (a slide whose group is another's id) are sorted.
    copied = _distinct(found.groups[found.follows])
    at = np.minimum(np.searchsorted(copied, found.groups), max(len(copied) - 1, 0))
    in_copied = copied[at] == found.groups if len(copied) else np.zeros(len(found.groups), dtype=bool)
    alone, grouped = np.flatnonzero(~in_copied), np.flatnonzero(in_copied)
    # Stable: members stay in docnum order within their group.
    by_group = grouped[np.argsort(found.groups[grouped], kind="stable")]
    starts = _run_starts(found.groups[by_group])
    sizes = np.diff(starts, append=len(by_group))
    run_of = np.repeat(np.arange(len(starts)), sizes)
    leaders = np.zeros(0, dtype=np.int64)
    if len(by_group):  # each group's best-ranked member (the first in docnum order on a tie)
        ranks = found.rank[by_group]
        leaders = np.flatnonzero(ranks == np.maximum.reduceat(ranks, starts)[run_of])
        leaders = leaders[_run_starts(run_of[leaders])]
    heads = np.concatenate([alone, by_group[leaders]])  # one per group, its rank the group's
    top = _ranked(found.rank[heads], found.docnums[heads], depth)[start:]
    # The members of this page's groups only, in one pass.
    parts = [heads[[place]] if place < len(alone) else by_group[starts[place - len(alone)]:][
        :sizes[place - len(alone)]] for place in top.tolist()]
    counts = np.array([len(part) for part in parts], dtype=np.int64)
    members = np.concatenate(parts) if parts else top
    place = np.repeat(np.arange(len(parts)), counts)
    order = np.argsort(members)
    members, ordered_place, page_ids = found.newest_first(members[order], place[order], newest_on)
    hits = []
    for position, first in enumerate(_run_starts(ordered_place).tolist()):
        end = first + int(counts[position])
        hits.append(GroupHit(int(found.docnums[members[first]]), float(found.rank[heads[top[position]]]),
                             page_ids[first + 1:min(end, first + 1 + MAX_OTHERS)].tolist()))
    return GroupedResult(hits, len(alone) + len(starts), _facet_excess(found, by_group, run_of, sizes))


def _ranked(values: np.ndarray, docnums: np.ndarray, depth: int) -> np.ndarray:
    """Indexes of the depth largest values, best first, ties in docnum order; all
    values tied at the cut are sorted, so a deeper page continues the same order."""
    candidates = np.arange(len(values))
    if len(values) > depth:
        threshold = np.partition(values, len(values) - depth)[len(values) - depth]
        candidates = np.flatnonzero(values >= threshold)
    return candidates[np.lexsort((docnums[candidates], -values[candidates]))][:depth]


def _run_starts(values: np.ndarray) -> np.ndarray:
    """Where each run of equal values starts, in an array sorted by them."""
    edges = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=edges[1:])
    return np.flatnonzero(edges)


def _distinct(values: np.ndarray) -> np.ndarray:
    # Sorting and comparing neighbours: several times faster than np.unique's hashing here.
    ordered = np.sort(values)
    return ordered[_run_starts(ordered)]


def _facet_excess(found: _Matched, by_group: np.ndarray, run_of: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Per facet code, how many matched copies beyond one per group carry it:
    subtracted from the per-document counts, each facet value counts groups.
    Only documents sharing a group with another match are read."""
    excess = np.zeros(len(FACET_CODES.keys), dtype=np.int64)
    if not (sizes > 1).any():
        return excess
    shared = (sizes > 1)[run_of]
    members, runs = by_group[shared], run_of[shared]
    order = np.argsort(members)
    members, runs = members[order], runs[order]
    pairs = []
    for match, here, local in found.by_segment(members):
        data, run = match.data, runs[np.searchsorted(members, here)]
        codes = data.facet_matrix[:, local]
        pairs.append(np.stack([np.tile(run, codes.shape[0]), codes.ravel()]))
        if len(data.tag_docs):
            wanted = np.zeros(data.size, dtype=bool)
            wanted[local] = True
            keep = np.flatnonzero(wanted[data.tag_docs])
            run_of_local = np.empty(data.size, dtype=np.int64)
            run_of_local[local] = run
            pairs.append(np.stack([run_of_local[data.tag_docs[keep]], data.tag_facet_codes[keep]]))
    runs, codes = np.concatenate(pairs, axis=1)
    size = len(excess)
    distinct = _distinct(runs * size + codes) % size  # each (group, value) once
    excess += np.bincount(codes, minlength=size)[:size] - np.bincount(distinct, minlength=size)[:size]
    return excess
