"""Several processes write the index at once (gunicorn workers and the queue
worker): no LockError reaches anyone and no write is lost; readers keep going."""

from __future__ import annotations

import multiprocessing
import time
import traceback
from datetime import datetime

import pytest

from search.documents import AssetDocument, PageDocument
from search.index import SearchIndex

WRITERS = 4
PER_WRITER = 50


def _doc(asset_id: int) -> tuple[AssetDocument, list[PageDocument]]:
    doc = AssetDocument(asset_id=asset_id, title=f"Deck {asset_id} pricing", description="", tags=["pricing"],
                        content_type="deck", product="Care", stage=None, region=None, persona=None, owner="o",
                        text=f"healthcare pricing number {asset_id}", status="published", expires_on=None,
                        rating_average=None, usage_count=0, updated_at=datetime(2026, 1, 1))
    page = PageDocument(page_id=asset_id * 10, asset_id=asset_id, number=1, title=f"Slide of {asset_id}",
                        text="pricing slide", notes="", asset_title=doc.title, content_type="deck",
                        product="Care", stage=None, region=None, persona=None)
    return doc, [page]


def _writer(directory: str, offset: int, errors) -> None:
    index = SearchIndex(directory, lock_timeout=60)
    try:
        for n in range(PER_WRITER):
            index.update_assets([_doc(offset + n)])  # one commit per asset: the worst case for the lock
    except Exception:  # reported to the parent
        errors.put(traceback.format_exc())


def _reader(directory: str, rounds: int, errors) -> None:
    index = SearchIndex(directory)
    try:
        for _ in range(rounds):
            index.search_assets("pricing healthcare")
            index.search_pages("slide")
    except Exception:
        errors.put(traceback.format_exc())


def test_concurrent_writers_and_readers(tmp_path):
    directory = str(tmp_path / "index")
    SearchIndex(directory).ensure()
    context = multiprocessing.get_context("spawn")
    errors = context.Queue()
    processes = [context.Process(target=_writer, args=(directory, 1000 * (w + 1), errors)) for w in range(WRITERS)]
    processes += [context.Process(target=_reader, args=(directory, 60, errors)) for _ in range(2)]
    for process in processes:
        process.start()
    # A safety net only: on a loaded machine the 200 commits take minutes of wall
    # clock (the former 240 s per join was reached with every process still working).
    deadline = time.monotonic() + 900
    for process in processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
        if process.exitcode is None:
            pytest.fail(f"{process.name} was still running after 15 minutes")
        assert process.exitcode == 0
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert problems == []
    index = SearchIndex(directory)
    assert index.doc_counts() == {"assets": WRITERS * PER_WRITER, "pages": WRITERS * PER_WRITER}
    assert index.search_assets("pricing", per_page=5).total == WRITERS * PER_WRITER


def test_a_held_lock_times_out_with_a_clear_error(tmp_path):
    import fcntl
    import os

    from search.index import IndexBusy

    index = SearchIndex(str(tmp_path / "index"), lock_timeout=0.3)
    index.ensure()
    with open(os.path.join(index.directory, "write.lock"), "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        with pytest.raises(IndexBusy, match="busy"):
            index.update_assets([_doc(1)])
    index.update_assets([_doc(1)])  # free again: the write goes through
    assert index.doc_counts()["assets"] == 1


def test_a_searcher_opened_while_a_commit_removes_segments_reads_the_new_toc(tmp_path, monkeypatch):
    index = SearchIndex(str(tmp_path / "index"))
    index.ensure()
    index.update_assets([_doc(1)])
    generations = index.searchers.generations
    real_open, calls = generations.open, []

    def open_racing_a_commit(indexname, *args):
        calls.append(indexname)
        if len(calls) <= 2:  # what open_dir raises when a merge deleted the segments its TOC named
            raise FileNotFoundError(2, "No such file or directory", "MAIN_abc.seg")
        return real_open(indexname, *args)

    monkeypatch.setattr(generations, "open", open_racing_a_commit)
    assert index.search_assets("pricing").total == 1
    assert calls[:3] == ["assets"] * 3  # two failed opens, then the new TOC
