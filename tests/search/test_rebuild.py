"""A rebuild (search/writer.py Rebuild) cut off and resumed: from its last commit,
with no document twice, and with the assets written to the live generation
meanwhile read again before the swap."""

from __future__ import annotations

import pytest

from search.generations import PROGRESS
from search.index import RebuildRunning, SearchIndex
from tests.search.test_index import asset, page


def _batch(ids, word="fresh"):
    batch = []
    for n in ids:
        doc = asset(n, f"Deck {n} {word}", "pricing")
        batch.append((doc, [page(n * 10 + 1, doc, 1, f"Slide {n} {word}")]))
    return batch


@pytest.fixture
def index(tmp_path):
    ix = SearchIndex(str(tmp_path / "ix"))
    ix.ensure()
    ix.merges.request = lambda: None
    ix.update_assets(_batch(range(1, 9), "old"))
    yield ix
    ix.close()


def test_a_resumed_rebuild_never_holds_a_document_twice(index):
    rebuild = index.start_rebuild(commit_every=4)
    for start in (1, 3, 5):
        rebuild.add(_batch([start, start + 1]))
    assert (rebuild.last_id, rebuild.done) == (4, 4)  # 5 and 6 are not committed yet
    path = index.generations.path(rebuild.name)
    rebuild.close()  # the process dies: what was not committed is lost
    # The commit of 1-4 happened but its progress was not saved.
    with open(f"{path}/{PROGRESS}", "w") as handle:
        handle.write('{"last_id": 2, "done": 2}')
    index.update_assets(_batch([3], "changed"))  # written to the live generation meanwhile

    with index.start_rebuild(commit_every=4) as resumed:
        assert resumed.name == rebuild.name and (resumed.last_id, resumed.done) == (2, 2)
        for start in range(3, 9, 2):
            resumed.add(_batch([start, start + 1]))
        resumed.finish(lambda ids: _batch(ids, "changed"))
    assert index.doc_counts() == {"assets": 8, "pages": 8}
    assert index.search_assets("fresh", include_hidden=True).total == 7
    assert [hit.asset_id for hit in index.search_assets("changed", include_hidden=True).hits] == [3]
    assert index.search_assets("old", include_hidden=True).total == 0


def test_one_rebuild_at_a_time_and_a_new_one_can_start_afresh(index):
    first = index.start_rebuild()
    first.add(_batch([1, 2]))
    with pytest.raises(RebuildRunning):
        index.start_rebuild()
    first.close()
    with index.start_rebuild(resume=False) as fresh:
        assert fresh.name != first.name and fresh.done == 0
        fresh.add(_batch([1]))
        fresh.finish()
    assert index.doc_counts() == {"assets": 1, "pages": 1}
    assert index.generations.rebuilding() is None


def test_a_live_generation_replaced_as_unreadable_leaves_the_rebuild_under_way_alone(index):
    with index.start_rebuild(commit_every=2) as rebuild:
        rebuild.add(_batch([1, 2]))
        live = index.generations.current()
        with open(f"{index.generations.path(live)}/SCHEMA_VERSION", "w") as handle:
            handle.write("0")  # the live generation can no longer be used
        assert index.ensure() is True  # an empty generation replaces it
        assert index.generations.current() != live
        rebuild.add(_batch([3, 4]))
        rebuild.finish()
    assert index.doc_counts() == {"assets": 4, "pages": 4}


def test_a_commit_that_leaves_nothing_to_merge_starts_no_merger(tmp_path):
    ix = SearchIndex(str(tmp_path / "ix"))
    ix.ensure()
    ix.update_assets(_batch([1]))
    assert ix.merges._child is None and not ix.merges.pending()
    ix.close()
