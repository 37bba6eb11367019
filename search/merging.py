"""Merging segments beside the writes, so commits stay quick and segments few.

Every commit writes a new segment and merges nothing (a single-asset commit
writes a small segment in each index). Merging is what Whoosh does slowly: it
indexes every posting of the merged segments again, about as long as indexing
their documents did. Done inside a commit, a merge held up that commit and every
write queued behind the write lock. So, after a commit, a child process merges
(`BackgroundMerges`, `python -m search.merging`; a thread would take turns with
the commits for Python's interpreter lock): it builds the merged segment from
the segments as they were, outside the write lock (commits go on meanwhile),
then takes the lock only to swap it in, with the deletions committed meanwhile
applied to it. One merger runs at a time over every process (MERGE_LOCK); the
child stops when nothing is left to merge, or when its parent dies.

Which segments (`choose`): tiers by live documents (under 4, under 16, under
64, ...). The smallest tier holding FACTOR segments whose FACTOR smallest hold
at most `largest` documents together is merged into one: every document is
rewritten about once per tier and each tier keeps fewer than FACTOR segments.
Every segment costs each query a fixed share (its columns, its postings, its
BM25 statistics), so FACTOR is 4 rather than 10: on average 1.5 segments per
tier instead of 4.5 over about 5 tiers instead of 3, so about half the segments
after a run of single-asset commits, for each document rewritten by about 5
merges instead of 3 (beside the writes). The small segments among them are then
searched as one run (search/runs.py), so what is left of that share is mostly
the large segments'.
Rebuild batches (200-500 assets) never qualify, nor any segment that merges
made `largest` or more; segments whose documents were all deleted are dropped.
When no tier is full, a segment of which EXPUNGE_SHARE or more of the documents
are deleted is rewritten alone, without them (Lucene's deletesPctAllowed): an
asset replaced after a rebuild leaves its old documents in the large segments
the rebuild wrote, which no tier takes, and every query still walks them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid

from search.generations import Generations
from search.schema import ASSETS, PAGES
from search.whoosh_internals import build_merged_segment, last_commit, swap_in_merged_segment

log = logging.getLogger(__name__)

FACTOR = 4
EXPUNGE_SHARE = 0.25  # deleted share of a segment's documents at which it is rewritten alone
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
    worn = [segment for segment in segments if segment.deleted_count() >= EXPUNGE_SHARE * segment.doc_count_all()]
    if worn:  # the most worn first
        return [max(worn, key=lambda segment: segment.deleted_count() / segment.doc_count_all())]
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


_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class BackgroundMerges:
    def __init__(self, generations: Generations, largest: dict[str, int] | None = None):
        self.generations = generations
        self.largest = largest or LARGEST
        self._child: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self.merged = 0  # merges swapped in by this process's children

    def request(self) -> None:
        """Merge what needs merging, in a child process (unless one is running:
        it looks at the segments again after each merge)."""
        with self._lock:
            if self._child is not None:
                if self._child.poll() is None:
                    return
                self._reap()
            # Most commits leave nothing to merge: reading the two TOCs here costs
            # milliseconds, starting a child (Python, numpy, Whoosh) half a second of CPU.
            try:
                if not self.pending():
                    return
            except Exception:  # unreadable: the next search reports the damage; merging cannot help
                log.exception("search index merge: the segments could not be read")
                return
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(p for p in (_REPO_ROOT, env.get("PYTHONPATH")) if p)
            self._child = subprocess.Popen(
                [sys.executable, "-m", "search.merging", self.generations.directory, json.dumps(self.largest),
                 str(os.getpid())],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=env, text=True)

    def _reap(self) -> int:
        """Count the merges of the child that ended (the caller holds _lock)."""
        child, self._child = self._child, None
        output, _ = child.communicate()
        done = int(output.strip() or 0) if output.strip().isdigit() else 0
        self.merged += done
        return done

    def pending(self) -> bool:
        """Whether the live generation has segments to merge."""
        generation = self.generations.current()
        if generation is None:
            return False
        return any(choose(last_commit(self.generations.open(name, generation))[1], self.largest[name])
                   for name in (ASSETS, PAGES))

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the merges are done and none is pending (True), or for
        `timeout` seconds (False); starts a merger when one is needed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                child = self._child
            if child is None:
                if not self.pending():
                    return True
                self.request()
                if self._child is None:
                    return False
                continue
            try:
                child.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                return False
            with self._lock:
                done = self._reap() if self._child is child else None
            if done == 0:  # another process is merging, or merging fails
                return not self.pending()

    def finish(self) -> None:
        """Wait for the merger under way, if any (none is started)."""
        with self._lock:
            if self._child is not None:
                self._child.wait()
                self._reap()

    def merge_until_done(self, parent: int | None = None) -> int:
        """Merge until nothing is left to merge (or the parent process is gone)."""
        done = 0
        while (parent is None or os.getppid() == parent) and self.merge_once():
            done += 1
        return done

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
        return swapped


def main(argv: list[str]) -> None:
    """The merge child: python -m search.merging DIRECTORY LARGEST_JSON PARENT_PID."""
    directory, largest, parent = argv[0], json.loads(argv[1]), int(argv[2])
    with contextlib.suppress(OSError, AttributeError):  # Linux: die with the parent
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        return
    logging.basicConfig(level=logging.WARNING)
    generations = Generations(directory, lock_timeout=60.0, on_publish=lambda: None)
    merges = BackgroundMerges(generations, largest)
    try:
        done = merges.merge_until_done(parent)
    except Exception:  # a merge is an optimisation: the index stays right without it
        log.exception("search index merge failed")
        done = 0
    with contextlib.suppress(OSError):  # the parent may be gone
        print(done, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
