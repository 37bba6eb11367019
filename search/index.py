"""The search index as the portal sees it: one SearchIndex over two Whoosh
indexes (assets and pages) in one directory.

Assets and pages have different fields and are searched separately (the
search page's "Collateral" and "Slides" tabs), so each has its own index and
schema; they share one cross-process write lock and one generation.

SearchIndex only wires the parts together:
  generations.py  the directory, the live generation, creating and swapping one
  writer.py       the single writer (lock.py): upserts, deletions, rebuilds
  merging.py      merging segments beside the writes
  searchers.py    the pool of searchers lent to one thread at a time
  segments.py     per-segment data read once and shared by every searcher
  execute.py      running a search (matching.py matches and ranks, spelling.py suggests)
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime

from search.documents import AssetDocument, PageDocument, stamp
from search.execute import QueryRunner, visible_day
from search.generations import Generations, IndexDamaged
from search.lock import IndexBusy
from search.merging import BackgroundMerges
from search.query import ASSET_FIELDS, PAGE_FIELDS
from search.results import AssetHit, CheckReport, PageHit, SearchResults
from search.schema import ASSETS, PAGES
from search.searchers import SearcherPool
from search.segments import SegmentCache
from search.writer import IndexWriter, Rebuild, RebuildRunning

__all__ = ["ASSETS", "PAGES", "IndexBusy", "IndexDamaged", "RebuildRunning", "SearchIndex", "SearchResults",
           "AssetHit", "PageHit", "CheckReport", "Rebuild"]

log = logging.getLogger(__name__)

# What reading a truncated, garbled or vanished segment raises (files are read, not mapped).
DAMAGE_ERRORS = (OSError, EOFError, struct.error, zlib.error, pickle.UnpicklingError, ValueError, IndexError)


class SearchIndex:
    def __init__(self, directory: str, *, lock_timeout: float = 30.0):
        self.directory = os.path.abspath(directory)
        # A published generation closes the idle searchers of the old one.
        self.generations = Generations(self.directory, lock_timeout, on_publish=lambda: self.searchers.close())
        self.searchers = SearcherPool(self.generations)
        self.segments = SegmentCache()
        self.merges = BackgroundMerges(self.generations)
        self.writer = IndexWriter(self.generations, self.merges)
        self.queries = QueryRunner(self.searchers, self.segments)

    def ensure(self) -> bool:
        """Open the index, or create it empty when it is missing, has another
        schema version or is corrupt. True means: refill it from the database."""
        return self.generations.ensure()

    # --- writing ---------------------------------------------------------------

    def update_asset(self, asset: AssetDocument, pages: list[PageDocument] | None) -> None:
        self.writer.update_assets([(asset, pages)])

    def update_assets(self, items: Iterable[tuple[AssetDocument, list[PageDocument] | None]]) -> None:
        """Upsert assets (and replace their pages when given) in one commit."""
        self.writer.update_assets(items)

    def delete_asset(self, asset_id: int) -> None:
        self.writer.delete_asset(asset_id)

    def rebuild(self, batches: Iterable[list[tuple[AssetDocument, list[PageDocument]]]], *,
                total: int | None = None, on_progress: Callable[[int], None] | None = None) -> int:
        """Build a new generation batch by batch, then swap it in; `total` is the
        number of assets expected (for the caller's progress bar)."""
        return self.writer.rebuild(batches, on_progress=on_progress)

    def start_rebuild(self, *, resume: bool = True, commit_every: int | None = None) -> Rebuild:
        """A resumable rebuild: the one a dead process left unfinished, or a new
        generation (see search/writer.py Rebuild; a commit every `commit_every`
        assets); RebuildRunning if another process is rebuilding."""
        return Rebuild(self.generations, resume=resume, commit_every=commit_every)

    # --- reading -----------------------------------------------------------------

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """A read that finds the live generation damaged marks it, drops the open
        searchers and raises IndexDamaged: the caller serves a clear answer and
        has the index rebuilt from the database."""
        try:
            yield
        except DAMAGE_ERRORS as error:
            log.exception("the search index could not be read")
            self.generations.mark_damaged(error)
            self.searchers.close()
            raise IndexDamaged(f"{type(error).__name__}: {error}") from error

    def damaged(self) -> str | None:
        """Why the live index was found damaged (until a rebuild replaces it), or None."""
        return self.generations.damaged()

    def search_assets(self, q_text: str, *, filters: dict[str, str] | None = None, sort: str = "relevance",
                      page: int = 1, per_page: int = 20, include_hidden: bool = False,
                      today: date | None = None) -> SearchResults[AssetHit]:
        with self._reading():
            return self.queries.search(ASSETS, ASSET_FIELDS, q_text, filters=filters,
                                       visible_on=visible_day(include_hidden, today), sort=sort, page=page,
                                       per_page=per_page, hit=AssetHit.from_stored)

    def search_pages(self, q_text: str, *, filters: dict[str, str] | None = None, page: int = 1,
                     per_page: int = 24, include_hidden: bool = False,
                     today: date | None = None) -> SearchResults[PageHit]:
        """One hit per lineage group of slides (copies of one slide across decks): the group
        ranks by its best copy and shows its newest published one; `total` counts groups."""
        with self._reading():
            return self.queries.search(PAGES, PAGE_FIELDS, q_text, filters=filters,
                                       visible_on=visible_day(include_hidden, today), sort="relevance", page=page,
                                       per_page=per_page, hit=PageHit.from_stored,
                                       grouped_on=(today or date.today()).toordinal())

    def more_like_this(self, asset_id: int, *, limit: int = 5, include_hidden: bool = False,
                       today: date | None = None) -> list[int]:
        with self._reading():
            return self.queries.more_like_this(asset_id, limit=limit, visible_on=visible_day(include_hidden, today))

    def check(self, expected: dict[int, datetime]) -> CheckReport:
        """Compare the index with the database (asset id -> updated_at)."""
        with self.searchers.lend(ASSETS) as searcher:
            indexed = {int(fields["asset_id"]): fields.get("stamp") for fields in searcher.all_stored_fields()}
        report = CheckReport()
        for asset_id, updated_at in expected.items():
            if asset_id not in indexed:
                report.missing.append(asset_id)
            elif indexed[asset_id] is None or indexed[asset_id] < stamp(updated_at):
                report.stale.append(asset_id)
        report.extra = sorted(set(indexed) - set(expected))
        report.missing.sort()
        report.stale.sort()
        return report

    def doc_counts(self) -> dict[str, int]:
        with self.searchers.lend(ASSETS) as assets, self.searchers.lend(PAGES) as pages:
            return {"assets": assets.doc_count(), "pages": pages.doc_count()}

    def drop_cached_postings(self) -> None:
        """Forget the postings kept in memory; the next searches read them from disk."""
        self.segments.drop_cached_postings()

    def wait_for_merges(self, timeout: float | None = None) -> bool:
        """Wait until no merge is under way or needed (True), at most `timeout` seconds."""
        return self.merges.wait(timeout)

    def close(self) -> None:
        """Let the merge under way finish; close the idle searchers (lent ones
        are closed or kept when given back)."""
        self.merges.finish()
        self.searchers.close()
