"""Merging beside the writes (search/merging.py): which segments, the merge
itself, and the deletions committed while it ran."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from search.index import ASSETS, PAGES, SearchIndex
from search.merging import BackgroundMerges, choose
from search.whoosh_internals import build_merged_segment, last_commit, swap_in_merged_segment
from tests.search.test_index import asset, page


@dataclass
class Segment:
    live: int
    deleted: int = 0

    def doc_count(self) -> int:
        return self.live

    def doc_count_all(self) -> int:
        return self.live + self.deleted

    def deleted_count(self) -> int:
        return self.deleted


def counts(segments) -> list[int]:
    return sorted(segment.doc_count() for segment in segments)


def test_a_full_tier_is_merged_smallest_first_and_large_segments_are_left_alone():
    # Tiers of live documents: under 4, under 16, under 64, ...; four in one tier are merged.
    assert choose([Segment(1)] * 3, largest=1000) == []
    assert counts(choose([Segment(1)] * 4 + [Segment(500)], largest=1000)) == [1] * 4
    assert counts(choose([Segment(2)] * 7, largest=1000)) == [2] * 7  # a merger that fell behind takes them all
    assert counts(choose([Segment(n) for n in range(4, 8)], largest=1000)) == [4, 5, 6, 7]
    rebuilt = [Segment(500)] * 20
    assert choose(rebuilt + [Segment(1)] * 3 + [Segment(40)] * 3, largest=1000) == []
    assert counts(choose(rebuilt + [Segment(250)] * 4, largest=1000)) == [250] * 4  # 1,000 at most
    assert choose(rebuilt + [Segment(300)] * 4, largest=1000) == []  # would make 1,200
    assert counts(choose([Segment(0), Segment(1), Segment(0)], largest=1000)) == [0, 0]  # all deleted: dropped
    assert counts(choose([Segment(1)] * 10, largest=1000, factor=10)) == [1] * 10


def test_a_segment_a_quarter_deleted_is_rewritten_alone_when_no_tier_is_full():
    rebuilt = [Segment(2000, deleted=300), Segment(1400, deleted=600), Segment(1500, deleted=500)]
    assert choose(rebuilt, largest=1000) == [rebuilt[1]]  # the most worn: 30% deleted
    assert choose([Segment(2000, deleted=499)] + [Segment(1)] * 3, largest=1000) == []  # under a quarter
    tier = [Segment(1)] * 4
    assert choose(rebuilt + tier, largest=1000) == tier  # a full tier first


def _commit_one_asset_at_a_time(index: SearchIndex, ids) -> None:
    for n in ids:
        doc = asset(n, f"Deck {n} pricing", f"healthcare pricing number{n}")
        index.update_assets([(doc, [page(n * 10 + k, doc, k, f"Slide {k}", "pricing slide") for k in (1, 2)])])


def _segment_counts(index: SearchIndex) -> dict[str, list[int]]:
    return {name: counts(last_commit(index.generations.open(name))[1]) for name in (ASSETS, PAGES)}


def test_single_asset_commits_are_merged_beside_the_writes(tmp_path):
    index = SearchIndex(str(tmp_path / "ix"))
    index.ensure()
    index.merges = index.writer.merges = BackgroundMerges(index.generations, {ASSETS: 40, PAGES: 80})
    _commit_one_asset_at_a_time(index, range(1, 61))
    _commit_one_asset_at_a_time(index, range(1, 21))  # replaced: the earlier documents are deleted
    assert index.wait_for_merges(timeout=120)
    index.merges.request()  # whatever the last commits left
    assert index.wait_for_merges(timeout=120)
    assert index.merges.merged >= 5
    segments = _segment_counts(index)
    assert len(segments[ASSETS]) < 2 * 10 and len(segments[PAGES]) < 2 * 10, segments
    assert sum(segments[ASSETS]) == 60 and sum(segments[PAGES]) == 120
    results = index.search_assets("pricing", include_hidden=True, per_page=200)
    assert results.total == 60 and sorted(hit.asset_id for hit in results.hits) == list(range(1, 61))
    assert index.search_pages("slide", include_hidden=True).total == 120
    assert index.search_assets("number7", include_hidden=True).total == 1
    index.close()


def test_deletions_committed_while_a_merge_ran_stay_deleted(tmp_path):
    index = SearchIndex(str(tmp_path / "ix"))
    index.ensure()
    index.merges.request = lambda: None  # merged by hand below
    _commit_one_asset_at_a_time(index, range(1, 11))
    ix = index.generations.open(ASSETS)
    generation, segments = last_commit(ix)
    merged = build_merged_segment(ix, segments, str(tmp_path / "work"))
    index.delete_asset(3)  # committed while the merge was being built
    _commit_one_asset_at_a_time(index, [4, 11])  # 4 replaced, 11 added
    with index.generations.lock():
        assert swap_in_merged_segment(ix, merged)
    shutil.rmtree(tmp_path / "work")
    assert last_commit(ix)[0] > generation
    found = index.search_assets("pricing", include_hidden=True)
    assert sorted(hit.asset_id for hit in found.hits) == [1, 2, 4, 5, 6, 7, 8, 9, 10, 11]
    assert index.search_assets("number4", include_hidden=True).total == 1  # once, not twice
    assert counts(last_commit(ix)[1]) == [1, 1, 8]  # the merged segment, the new 4 and 11


def test_a_merge_whose_segments_went_meanwhile_changes_nothing(tmp_path):
    index = SearchIndex(str(tmp_path / "ix"))
    index.ensure()
    index.merges.request = lambda: None
    _commit_one_asset_at_a_time(index, range(1, 11))
    ix = index.generations.open(ASSETS)
    _, segments = last_commit(ix)
    first = build_merged_segment(ix, segments[:5], str(tmp_path / "first"))
    second = build_merged_segment(ix, segments[3:], str(tmp_path / "second"))
    with index.generations.lock():
        assert swap_in_merged_segment(ix, first)
        before = last_commit(ix)
        assert not swap_in_merged_segment(ix, second)  # two of its segments were merged by the first
    assert last_commit(ix)[0] == before[0]
    assert index.search_assets("pricing", include_hidden=True).total == 10


def test_a_searcher_kept_across_merges_shows_each_document_once(tmp_path):
    index = SearchIndex(str(tmp_path / "ix"))
    index.ensure()
    index.merges = index.writer.merges = BackgroundMerges(index.generations, {ASSETS: 40, PAGES: 80})
    for n in range(1, 25):
        _commit_one_asset_at_a_time(index, [n, max(1, n - 3)])  # new ones, and replaced ones
        assert index.search_assets("pricing", include_hidden=True, per_page=200).total == n
    assert index.wait_for_merges(timeout=120)
    assert index.merges.merged >= 2
    with index.searchers.lend(ASSETS) as searcher:
        leaves = [leaf.segment().segment_id() for leaf, _ in searcher.reader().leaf_readers()]
    assert leaves == [segment.segment_id() for segment in last_commit(index.generations.open(ASSETS))[1]]
    results = index.search_assets("pricing", include_hidden=True, per_page=200)
    assert sorted(hit.asset_id for hit in results.hits) == list(range(1, 25))
    assert index.search_pages("slide", include_hidden=True).total == 48
    index.close()


def test_replaced_assets_leave_no_worn_segment_behind(tmp_path):
    # A rebuilt segment (larger than any merge may make) whose assets are replaced one by one:
    # once a quarter of its documents are deleted it is rewritten without them.
    index = SearchIndex(str(tmp_path / "ix"))
    index.ensure()
    index.merges = index.writer.merges = BackgroundMerges(index.generations, {ASSETS: 10, PAGES: 20})
    batch = []
    for n in range(1, 41):
        doc = asset(n, f"Deck {n} pricing", f"healthcare pricing number{n}")
        batch.append((doc, [page(n * 10 + k, doc, k, f"Slide {k}", "pricing slide") for k in (1, 2)]))
    index.rebuild([batch])
    _commit_one_asset_at_a_time(index, range(1, 13))  # 12 of 40 replaced: 30% of the rebuilt segment
    assert index.wait_for_merges(timeout=120)
    for name in (ASSETS, PAGES):
        segments = last_commit(index.generations.open(name))[1]
        assert all(s.deleted_count() < 0.25 * s.doc_count_all() for s in segments), (
            name, [(s.doc_count_all(), s.deleted_count()) for s in segments])
        assert sum(s.doc_count() for s in segments) == (40 if name == ASSETS else 80)
    results = index.search_assets("pricing", include_hidden=True, per_page=200)
    assert sorted(hit.asset_id for hit in results.hits) == list(range(1, 41))
    assert index.search_assets("number7", include_hidden=True).total == 1
    assert index.search_pages("slide", include_hidden=True).total == 80
    index.close()
