"""Merging segments beside the writes, so commits stay quick and segments few.

Every commit writes a new segment and merges nothing (a single-asset commit
writes a small segment in each index). Merging is what Whoosh does slowly: it
indexes every posting of the merged segments again, about as long as indexing
their documents did. Done inside a commit, a merge held up that commit and every
write queued behind the write lock. So, after a commit, one thread of the
writing process merges (`BackgroundMerges`): it builds the merged segment from
the segments as they were, outside the write lock (commits go on meanwhile),
then takes the lock only to swap it in, with the deletions committed meanwhile
applied to it. One merger runs at a time over every process (MERGE_LOCK).

Which segments (`choose`): tiers by live documents (under 10, under 100, under
1,000, ...). The smallest tier holding FACTOR segments whose FACTOR smallest
hold at most `largest` documents together is merged into one: every document is
rewritten about once per tier and each tier keeps fewer than FACTOR segments.
Rebuild batches (200-500 assets) never qualify, nor any segment that merges
made `largest` or more; segments whose documents were all deleted are dropped.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import threading
import uuid

from search.generations import Generations
from search.schema import ASSETS, PAGES
from search.whoosh_internals import build_merged_segment, last_commit, swap_in_merged_segment

log = logging.getLogger(__name__)

FACTOR = 10
# The largest segment a merge may make: an asset carries all its slides' text.
LARGEST = {ASSETS: 1_000, PAGES: 20_000}
MERGE_LOCK = "merge.lock"
MERGING_PREFIX = "merging-"


def choose(segments: list, largest: int, factor: int = FACTOR) -> list:
    """The segments to merge next (none: leave them)."""
    empty = [segment for segment in segments if segment.doc_count() == 0]
    if empty:
        return empty
    lower, ceiling = 1, factor
    while lower < largest:
        tier = sorted((s for s in segments if lower <= s.doc_count() < ceiling), key=lambda s: s.doc_count())
        if len(tier) >= factor and sum(s.doc_count() for s in tier[:factor]) <= largest:
            chosen, total = [], 0
            for segment in tier:  # the smallest first, as many as fit
                if total + segment.doc_count() > largest:
                    break
                chosen.append(segment)
                total += segment.doc_count()
            return chosen
        lower, ceiling = ceiling, ceiling * factor
    return []


@contextlib.contextmanager
def _merge_lock(directory: str):
    """The cross-process merge lock, or None when another process holds it."""
    with open(os.path.join(directory, MERGE_LOCK), "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class BackgroundMerges:
    def __init__(self, generations: Generations, largest: dict[str, int] | None = None):
        self.generations = generations
        self.largest = largest or LARGEST
        self._thread: threading.Thread | None = None
        self._again = False
        self._lock = threading.Lock()
        self.merged = 0  # merges swapped in by this process

    def request(self) -> None:
        """Merge what needs merging, in a thread (started unless one runs)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._again = True
                return
            self._again = False
            self._thread = threading.Thread(target=self._run, name="search-merges", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the merges under way; True when none is left running."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def _run(self) -> None:
        while True:
            try:
                while self.merge_once():
                    pass
            except Exception:  # a merge is an optimisation: the index stays right without it
                log.exception("search index merge failed")
            with self._lock:
                if not self._again:
                    self._thread = None
                    return
                self._again = False

    def merge_once(self) -> bool:
        """One merge in one index of the live generation; False when none was needed
        (or another process is merging)."""
        generation = self.generations.current()
        if generation is None:
            return False
        directory = self.generations.path(generation)
        with _merge_lock(self.generations.directory) as mine:
            if not mine:
                return False
            for entry in os.listdir(directory):  # left by a merger that died
                if entry.startswith(MERGING_PREFIX):
                    shutil.rmtree(os.path.join(directory, entry), ignore_errors=True)
            for indexname in (ASSETS, PAGES):
                ix = self.generations.open(indexname, generation)
                chosen = choose(last_commit(ix)[1], self.largest[indexname])
                if chosen:
                    return self._merge(generation, ix, chosen)
        return False

    def _merge(self, generation: str, ix, chosen: list) -> bool:
        work = os.path.join(self.generations.path(generation), f"{MERGING_PREFIX}{uuid.uuid4().hex}")
        try:
            merged = build_merged_segment(ix, chosen, work)
            with self.generations.lock():
                if self.generations.current() != generation:
                    return False  # a rebuild replaced the generation meanwhile
                swapped = swap_in_merged_segment(ix, merged)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if swapped:
            self.merged += 1
        return swapped
