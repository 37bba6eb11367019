"""The single writer: upserts, deletions and rebuilds, each under the write lock.

Every write takes the cross-process lock (search/lock.py), opens one Whoosh
writer per index, applies the whole batch and commits both; a failure cancels
both (never a commit after a cancel). Commits never merge segments: merges run
beside them (search/merging.py), requested after each write.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterable, Iterator

from whoosh.reading import ReaderClosed
from whoosh.writing import NO_MERGE

from search.documents import AssetDocument, PageDocument, asset_fields, page_fields
from search.generations import Generations
from search.merging import BackgroundMerges
from search.schema import ASSETS, PAGES
from search.sequences import SequencedText

Items = Iterable[tuple[AssetDocument, list[PageDocument] | None]]


@contextlib.contextmanager
def _writers(assets_ix, pages_ix, **options) -> Iterator[tuple[object, object]]:
    """A Whoosh writer per index; both commit when the block ends, both are
    cancelled when it fails."""
    asset_writer = assets_ix.writer(**options)
    try:
        page_writer = pages_ix.writer(**options)
    except BaseException:
        asset_writer.cancel()
        raise
    for writer in (asset_writer, page_writer):
        for _, field in writer.schema.items():
            if isinstance(field, SequencedText):
                field.start_segment()
    try:
        yield asset_writer, page_writer
    except BaseException:
        asset_writer.cancel()
        page_writer.cancel()
        raise
    try:
        page_writer.commit(mergetype=NO_MERGE)
    except BaseException:
        asset_writer.cancel()  # else it keeps Whoosh's own lock on the assets index
        raise
    asset_writer.commit(mergetype=NO_MERGE)


def _apply_items(asset_writer, page_writer, items: Items, *, replace: bool = True) -> int:
    """Write the items; `replace=False` for a new, empty generation, where there
    is nothing to delete (each delete makes Whoosh's writer look the id up in
    every segment written so far)."""
    write_asset = asset_writer.update_document if replace else asset_writer.add_document
    count = 0
    for asset, pages in items:
        write_asset(**asset_fields(asset))
        if pages is not None:
            if replace:
                page_writer.delete_by_term("asset_id", str(asset.asset_id))
            for page in pages:
                page_writer.add_document(**page_fields(page))
        count += 1
    return count


class IndexWriter:
    def __init__(self, generations: Generations, merges: BackgroundMerges):
        self.generations = generations
        self.merges = merges

    def _write(self, apply: Callable[[object, object], None]) -> None:
        # Rarely, under concurrent commits, Whoosh's writer trips over a reader it
        # closed itself (seen once in CI as ReaderClosed); the batch is idempotent,
        # so the whole write is redone once on fresh writers.
        try:
            self._write_once(apply)
        except ReaderClosed:
            self._write_once(apply)
        self.merges.request()

    def _write_once(self, apply: Callable[[object, object], None]) -> None:
        with self.generations.lock():
            assets_ix, pages_ix = self.generations.open(ASSETS), self.generations.open(PAGES)
            with _writers(assets_ix, pages_ix) as (asset_writer, page_writer):
                apply(asset_writer, page_writer)

    def update_assets(self, items: Items) -> None:
        """Upsert assets (and replace their pages when given) in one commit."""
        items = list(items)
        if items:
            self._write(lambda aw, pw: _apply_items(aw, pw, items))

    def delete_asset(self, asset_id: int) -> None:
        def apply(asset_writer, page_writer):
            asset_writer.delete_by_term("asset_id", str(asset_id))
            page_writer.delete_by_term("asset_id", str(asset_id))

        self._write(apply)

    def rebuild(self, batches: Iterable[list[tuple[AssetDocument, list[PageDocument]]]], *,
                on_progress: Callable[[int], None] | None = None) -> int:
        """Build a new generation batch by batch (one commit per batch, bounded
        memory), then swap it in; readers keep the old one until the swap."""
        generations = self.generations
        with generations.lock():
            name = generations.create()
            assets_ix, pages_ix = generations.open(ASSETS, name), generations.open(PAGES, name)
            count = 0
            try:
                for batch in batches:
                    with _writers(assets_ix, pages_ix, limitmb=128) as (asset_writer, page_writer):
                        done = _apply_items(asset_writer, page_writer, batch, replace=False)
                    count += done
                    if on_progress:
                        on_progress(done)
            except BaseException:
                shutil.rmtree(generations.path(name), ignore_errors=True)
                raise
            generations.publish(name)
            generations.remove_old(keep=name)
        return count
