"""Slide search shows each lineage group once (copies of one slide across decks,
portal/decks/lineage.py), over the whole result rather than one page of it.

Every page document carries its group as a column (a slide alone is a group of
its own, search/documents.py). Over the matched documents of every segment, in
numpy: a stable sort by group, then by rank, gives each group's best member,
whose rank is the group's; the best groups are cut for the page asked for; the
members of those groups only are then ordered newest published copy first. The
total and the facet counts count groups, not copies.
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
    hits: list[GroupHit]  # the depth best groups, best first
    total: int  # groups with at least one match
    facet_excess: np.ndarray  # per facet code: how many more copies than groups it counted


class _Matched:
    """The matched documents of every segment as flat arrays, in docnum order."""

    def __init__(self, matches: list[Match], rank_column: str | None, newest_on: int):
        parts = []
        for ordinal, match in enumerate(matches):
            local = np.flatnonzero(match.mask)
            if not len(local):
                continue
            columns = match.data.columns
            rank = columns[rank_column][local].astype(np.float64) if rank_column else blended_relevance(match, local)
            # The copy shown is a published one where there is one (what reps may see today).
            published = match.data.published[local] & (columns["expires"][local] >= newest_on)
            parts.append((np.full(len(local), ordinal), local, local + match.offset, rank, columns["group"][local],
                          published, columns["version_created"][local], columns["page_key"][local]))
        if parts:
            arrays = [np.concatenate(part) for part in zip(*parts, strict=True)]
        else:
            arrays = [np.zeros(0, dtype=np.int64)] * 8
        (self.segment, self.local, self.docnums, self.rank, self.groups, self.published, self.created,
         self.page_ids) = arrays


def top_groups(matches: list[Match], depth: int, newest_on: int, rank_column: str | None = None) -> GroupedResult:
    """The depth best lineage groups (ranked by relevance, or by `rank_column`
    when browsing), each shown as its newest published matching copy."""
    found = _Matched(matches, rank_column, newest_on)
    if not len(found.docnums):
        return GroupedResult([], 0, np.zeros(len(FACET_CODES.keys), dtype=np.int64))
    # Stable: equal ranks stay in docnum order, so every page of results sees the same order.
    by_group = np.lexsort((-found.rank, found.groups))
    sorted_groups = found.groups[by_group]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    best = by_group[starts]  # each group's best-ranked member
    top = best[_ranked(found.rank[best], found.docnums[best], depth)]
    hits = _shown(found, top)
    sizes = np.diff(np.r_[starts, len(by_group)])
    return GroupedResult(hits, len(starts), _facet_excess(matches, found, by_group, starts, sizes))


def _ranked(values: np.ndarray, docnums: np.ndarray, depth: int) -> np.ndarray:
    """Indexes of the depth largest values, best first, ties in docnum order; all
    values tied at the cut are sorted, so a deeper page continues the same order."""
    candidates = np.arange(len(values))
    if len(values) > depth:
        threshold = np.partition(values, len(values) - depth)[len(values) - depth]
        candidates = np.flatnonzero(values >= threshold)
    return candidates[np.lexsort((docnums[candidates], -values[candidates]))][:depth]


def _newest_first(found: _Matched, members: np.ndarray) -> np.ndarray:
    """Members ordered as the copy to show first: published, then the newest
    version, then the newest slide (the highest page id)."""
    return members[np.lexsort((-found.page_ids[members], -found.created[members], ~found.published[members]))]


def _shown(found: _Matched, top: np.ndarray) -> list[GroupHit]:
    """Each chosen group's copy to show and its other copies: one pass over the
    members of the chosen groups only."""
    chosen = found.groups[top]
    members = np.flatnonzero(np.isin(found.groups, chosen))
    members = _newest_first(found, members)
    members = members[np.argsort(found.groups[members], kind="stable")]
    by_group: dict[int, list[int]] = {}
    for member, group in zip(members.tolist(), found.groups[members].tolist(), strict=True):
        by_group.setdefault(group, []).append(member)
    hits = []
    for group, best in zip(chosen.tolist(), top.tolist(), strict=True):
        shown, *others = by_group[group]
        hits.append(GroupHit(int(found.docnums[shown]), float(found.rank[best]),
                             found.page_ids[others[:MAX_OTHERS]].tolist()))
    return hits


def _facet_excess(matches: list[Match], found: _Matched, by_group: np.ndarray, starts: np.ndarray,
                  sizes: np.ndarray) -> np.ndarray:
    """Per facet code, how many matched copies beyond one per group carry it:
    subtracted from the per-document counts, each facet value counts groups.
    Only documents sharing a group with another match are read."""
    excess = np.zeros(len(FACET_CODES.keys), dtype=np.int64)
    if not (sizes > 1).any():
        return excess
    run_of = np.repeat(np.arange(len(starts)), sizes)
    shared = (sizes > 1)[run_of]
    members, runs = by_group[shared], run_of[shared]
    pairs = []
    for ordinal in np.unique(found.segment[members]).tolist():
        data = matches[ordinal].data
        here = found.segment[members] == ordinal
        local, run = found.local[members[here]], runs[here]
        codes = data.facet_matrix[:, local]
        pairs.append(np.stack([np.tile(run, codes.shape[0]), codes.ravel()]))
        if len(data.tag_docs):
            run_of_local = np.full(data.size, -1, dtype=np.int64)
            run_of_local[local] = run
            tagged = run_of_local[data.tag_docs]
            keep = tagged >= 0
            pairs.append(np.stack([tagged[keep], data.tag_facet_codes[keep]]))
    runs, codes = np.concatenate(pairs, axis=1)
    size = len(excess)
    distinct = np.unique(runs * size + codes) % size  # each (group, value) once
    excess += np.bincount(codes, minlength=size)[:size] - np.bincount(distinct, minlength=size)[:size]
    return excess
