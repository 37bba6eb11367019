"""The single writer: upserts, deletions and rebuilds, each under the write lock.

Every write takes the cross-process lock (search/lock.py), opens one Whoosh
writer per index, applies the whole batch and commits both; a failure cancels
both (never a commit after a cancel). Commits never merge segments: merges run
beside them (search/merging.py), requested after each write.

A rebuild (`Rebuild`) fills a new generation one batch per commit, taking the
write lock per batch only, so the live generation keeps being searched and
written until the swap; the assets written there meanwhile are noted and read
again before the swap. A rebuild cut off (killed, failed) is resumed by the
next one from its last committed batch.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Callable, Iterable, Iterator

from whoosh.reading import ReaderClosed
from whoosh.writing import NO_MERGE

from search.documents import AssetDocument, PageDocument, asset_fields, page_fields
from search.generations import Generations
from search.merging import BackgroundMerges
from search.schema import ASSETS, PAGES
from search.segments import SEGMENT_KEYS
from search.sequences import SequencedText
from search.whoosh_internals import delete_by_key

Items = Iterable[tuple[AssetDocument, list[PageDocument] | None]]
Batch = list[tuple[AssetDocument, list[PageDocument]]]
REBUILD_LOCK = "rebuild.lock"


class RebuildRunning(Exception):
    """Another process is rebuilding the index."""


class _WriterPair:
    """A Whoosh writer per index, committed together or cancelled together."""

    def __init__(self, assets_ix, pages_ix, **options):
        self.assets = assets_ix.writer(**options)
        try:
            self.pages = pages_ix.writer(**options)
        except BaseException:
            self.assets.cancel()
            raise
        for writer in (self.assets, self.pages):
            for _, field in writer.schema.items():
                if isinstance(field, SequencedText):
                    field.start_segment()

    def commit(self) -> None:
        try:
            self.pages.commit(mergetype=NO_MERGE)
        except BaseException:
            self.assets.cancel()  # else it keeps Whoosh's own lock on the assets index
            raise
        self.assets.commit(mergetype=NO_MERGE)

    def cancel(self) -> None:
        for writer in (self.assets, self.pages):
            if not writer.is_closed:
                writer.cancel()


@contextlib.contextmanager
def _writers(assets_ix, pages_ix, **options) -> Iterator[tuple[object, object]]:
    """A Whoosh writer per index; both commit when the block ends, both are
    cancelled when it fails."""
    pair = _WriterPair(assets_ix, pages_ix, **options)
    try:
        yield pair.assets, pair.pages
    except BaseException:
        pair.cancel()
        raise
    pair.commit()


def _apply_items(asset_writer, page_writer, items: Items, *, replace: bool = True) -> int:
    """Write the items, replacing what the index holds of them; `replace=False`
    for a new, empty generation, where there is nothing to replace."""
    items = list(items)
    if replace:
        _delete(asset_writer, None, [asset.asset_id for asset, _ in items])
        _delete(None, page_writer, [asset.asset_id for asset, pages in items if pages is not None])
    for asset, pages in items:
        asset_writer.add_document(**asset_fields(asset))
        for page in pages or ():
            page_writer.add_document(**page_fields(page))
    return len(items)


class IndexWriter:
    def __init__(self, generations: Generations, merges: BackgroundMerges):
        self.generations = generations
        self.merges = merges

    def _write(self, apply: Callable[[object, object], None], asset_ids: list[int]) -> None:
        # Rarely, under concurrent commits, Whoosh's writer trips over a reader it
        # closed itself (seen once in CI as ReaderClosed); the batch is idempotent,
        # so the whole write is redone once on fresh writers.
        try:
            self._write_once(apply, asset_ids)
        except ReaderClosed:
            self._write_once(apply, asset_ids)
        self.merges.request()

    def _write_once(self, apply: Callable[[object, object], None], asset_ids: list[int]) -> None:
        with self.generations.lock():
            assets_ix, pages_ix = self.generations.open(ASSETS), self.generations.open(PAGES)
            with _writers(assets_ix, pages_ix) as (asset_writer, page_writer):
                apply(asset_writer, page_writer)
            self.generations.note_changed(asset_ids)

    def update_assets(self, items: Items) -> None:
        """Upsert assets (and replace their pages when given) in one commit."""
        items = list(items)
        if items:
            self._write(lambda aw, pw: _apply_items(aw, pw, items), [asset.asset_id for asset, _ in items])

    def delete_asset(self, asset_id: int) -> None:
        self._write(lambda aw, pw: _delete(aw, pw, [asset_id]), [asset_id])

    def rebuild(self, batches: Iterable[Batch], *, on_progress: Callable[[int], None] | None = None) -> int:
        """Build a new generation from these batches in one go and swap it in
        (an unfinished rebuild is discarded; a failure discards this one)."""
        with Rebuild(self.generations, resume=False) as rebuild:
            try:
                for batch in batches:
                    done = rebuild.add(batch)
                    if on_progress:
                        on_progress(done)
                rebuild.finish()
            except BaseException:
                rebuild.discard()
                raise
        return rebuild.done


def _delete(asset_writer, page_writer, asset_ids: list[int]) -> None:
    """Delete the assets (with asset_writer) and their pages (with page_writer)
    from the committed segments."""
    if not asset_ids:
        return
    for writer in (asset_writer, page_writer):
        if writer is not None:
            delete_by_key(writer, "asset_key", asset_ids, SEGMENT_KEYS.column)


class Rebuild:
    """A new generation filled from assets in id order, then swapped in. The
    batches go to one Whoosh segment per `commit_every` assets (fewer, larger
    segments: each repeats a term dictionary), committed with the progress
    saved; memory stays bounded (Whoosh's writer spills to disk past `limitmb`).
    Resumes the rebuild a dead process left unfinished (resume=True), from its
    last commit, else starts a new generation.

        with Rebuild(generations) as rebuild:   # RebuildRunning if another process rebuilds
            for batch in batches_after(rebuild.last_id):
                rebuild.add(batch)
            rebuild.finish(reread)              # reread(ids) -> the documents of those that exist
    """

    COMMIT_EVERY = 2_000  # assets per segment; a rebuild killed loses at most this much work
    LIMIT_MB = 128  # per Whoosh writer: postings past it spill to temporary files

    def __init__(self, generations: Generations, *, resume: bool = True, commit_every: int | None = None):
        self.generations = generations
        self.commit_every = commit_every or self.COMMIT_EVERY
        self._lock_file = open(os.path.join(generations.directory, REBUILD_LOCK), "a+")  # noqa: SIM115 (held)
        try:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise RebuildRunning("Another process is rebuilding the search index.") from None
        try:
            with generations.lock():
                name = generations.rebuilding()
                progress = generations.progress(name) if name and resume else None
                if progress is None:
                    name = generations.create()
                    generations.save_progress(name, 0, 0)
                    generations.mark_rebuilding(name)
                    progress = {"last_id": 0, "done": 0}
                current = generations.current()
                generations.remove_old(name, *([current] if current else []))  # what dead rebuilds left
        except BaseException:
            self.close()
            raise
        self.name = name
        self.last_id, self.done = progress["last_id"], progress["done"]
        self.resumed = self.done > 0
        # A commit made just before its process died may be missing from PROGRESS:
        # until the first commit of this run, assets replace what may be there.
        self._replace = self.resumed
        self._pair: _WriterPair | None = None
        self._pending, self._pending_last_id = 0, self.last_id

    def add(self, batch: Batch) -> int:
        """Write one batch (assets after last_id, in id order) to the new
        generation; committed with the progress every `commit_every` assets."""
        if not batch:
            return 0
        if self._pair is None:
            generations = self.generations
            self._pair = _WriterPair(generations.open(ASSETS, self.name), generations.open(PAGES, self.name),
                                     limitmb=self.LIMIT_MB)
        try:
            done = _apply_items(self._pair.assets, self._pair.pages, batch, replace=self._replace)
        except BaseException:
            self._cancel()
            raise
        self._pending += done
        self._pending_last_id = max(self._pending_last_id, max(asset.asset_id for asset, _ in batch))
        if self._pending >= self.commit_every:
            self._commit()
        return done

    def _commit(self) -> None:
        if self._pair is None:
            return
        pair, self._pair = self._pair, None
        try:
            pair.commit()
        except BaseException:
            pair.cancel()
            self._pending, self._pending_last_id = 0, self.last_id
            raise
        self.last_id, self.done = self._pending_last_id, self.done + self._pending
        self._pending, self._replace = 0, False
        self.generations.save_progress(self.name, self.last_id, self.done)

    def _cancel(self) -> None:
        if self._pair is not None:
            self._pair.cancel()
            self._pair = None
        self._pending, self._pending_last_id = 0, self.last_id

    def finish(self, reread: Callable[[list[int]], Items] | None = None) -> None:
        """Commit what is pending, bring the assets written to the live generation
        meanwhile up to date (reread gives the documents of those that still
        exist), then swap in."""
        self._commit()
        generations = self.generations
        with generations.lock():
            changed = sorted(generations.changed(self.name))
            if changed and reread is not None:
                items = list(reread(changed))
                gone = sorted(set(changed) - {asset.asset_id for asset, _ in items})
                assets_ix, pages_ix = generations.open(ASSETS, self.name), generations.open(PAGES, self.name)
                with _writers(assets_ix, pages_ix, limitmb=self.LIMIT_MB) as (asset_writer, page_writer):
                    _apply_items(asset_writer, page_writer, items)
                    _delete(asset_writer, page_writer, gone)
            generations.publish(self.name)
            generations.mark_rebuilding(None)
            generations.remove_old(keep=self.name)

    def discard(self) -> None:
        self._cancel()
        with self.generations.lock():
            if self.generations.rebuilding() == self.name:
                self.generations.mark_rebuilding(None)
            if self.generations.current() != self.name:
                shutil.rmtree(self.generations.path(self.name), ignore_errors=True)

    def close(self) -> None:
        """Let another process rebuild (an unfinished generation stays, to be
        resumed from its last commit)."""
        self._cancel()
        if not self._lock_file.closed:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)
            self._lock_file.close()

    def __enter__(self) -> Rebuild:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
