"""The searcher pool: Whoosh searchers on the last commit, lent to one thread at a time.

A Whoosh searcher reads through shared file handles, so it serves one thread
at a time; opening one on a large index costs a few hundred milliseconds, so
idle ones wait for the next search, whichever thread runs it (the threaded
development server starts a thread per request). A searcher is reopened when
the index changed. Readers never take the write lock.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

from whoosh.reading import ReaderClosed

from search.generations import Generations
from search.schema import ASSETS, PAGES
from search.whoosh_internals import searcher_reusing

IDLE_SEARCHERS = 8  # per index, kept open between searches
OPEN_ATTEMPTS = 5  # a commit may delete the segment files of the TOC a reader just read


def _close(searcher) -> None:
    with contextlib.suppress(ReaderClosed):  # closing twice is harmless
        searcher.close()


class SearcherPool:
    def __init__(self, generations: Generations):
        self.generations = generations
        self._idle: dict[str, list[tuple[str | None, object]]] = {ASSETS: [], PAGES: []}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def lend(self, indexname: str) -> Iterator:
        """A searcher on the last commit, lent to this thread until the block ends."""
        generation, searcher = self._take(indexname)
        try:
            yield searcher
        except ReaderClosed:
            _close(searcher)  # stale in a way up_to_date() did not show: never lend it again
            raise
        except BaseException:
            self._give_back(indexname, generation, searcher)
            raise
        self._give_back(indexname, generation, searcher)

    def _take(self, indexname: str) -> tuple[str | None, object]:
        generation = self.generations.current()
        while True:
            with self._lock:
                idle = self._idle[indexname]
                entry = idle.pop() if idle else None
            if entry is None:
                return generation, self._open(indexname)
            lent_generation, searcher = entry
            if lent_generation != generation:
                _close(searcher)  # a rebuild swapped in: none of its segments are live
                continue
            # Not searcher.refresh(): it keeps the old deletions (updates would show twice).
            if searcher.up_to_date():
                return generation, searcher
            return generation, self._open(indexname, searcher)

    def _open(self, indexname: str, previous=None):
        """A new searcher on the last commit, keeping the segment readers of
        `previous` (an outdated idle searcher) that are still live. A concurrent
        commit can remove the segments named by the TOC this reader just read:
        read the new TOC again."""
        for attempt in range(1, OPEN_ATTEMPTS + 1):
            try:
                ix = self.generations.open(indexname)
                return ix.searcher() if previous is None else searcher_reusing(ix, previous)
            except FileNotFoundError:
                if attempt < OPEN_ATTEMPTS:
                    time.sleep(0.01 * attempt)
                    continue
                if previous is not None:
                    _close(previous)
                raise
            except BaseException:
                if previous is not None:
                    _close(previous)
                raise
        raise AssertionError("unreachable")

    def _give_back(self, indexname: str, generation: str | None, searcher) -> None:
        with self._lock:
            idle = self._idle[indexname]
            if len(idle) < IDLE_SEARCHERS:
                idle.append((generation, searcher))
                return
        _close(searcher)

    def close(self) -> None:
        """Close the idle searchers (lent ones are closed or kept when given back)."""
        with self._lock:
            idle = [searcher for searchers in self._idle.values() for _, searcher in searchers]
            for searchers in self._idle.values():
                searchers.clear()
        for searcher in idle:
            _close(searcher)
