"""The single writer: one cross-process lock in front of every index write.

Gunicorn workers and the queue worker all write the same index. Whoosh's own
lock fails at once with LockError; this one waits (bounded, with back-off) on
`fcntl.flock` of a file beside the index, so concurrent writes queue up instead
of failing, and a write is never lost. The kernel drops the lock when a process
dies, so a crashed writer never leaves the index locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator

LOCK_NAME = "write.lock"


class IndexBusy(Exception):
    """The write lock could not be had in time; the caller retries later."""


@contextlib.contextmanager
def write_lock(directory: str, timeout: float) -> Iterator[None]:
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, LOCK_NAME), "a+") as handle:
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusy(f"The search index was busy for {timeout:.0f} s.") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def bounded_merge(limit: int, at_least: int = 4):
    """A Whoosh merge policy: once `at_least` small segments have piled up, merge
    the smallest of them, but never into a segment of more than `limit` documents.

    Whoosh writes a new segment's whole term table from memory, and with the
    word-pair fields a segment of the whole library would hold millions of
    terms; the bound keeps any one merge's term table small. (The 5 GB once
    seen during a rebuild came from replacing documents, not from merging: see
    SearchIndex.rebuild.) Searching a few more segments costs little."""

    def merge(writer, segments):
        from whoosh.reading import SegmentReader

        chosen, total = [], 0
        for segment in sorted(segments, key=lambda s: s.doc_count()):
            if segment.doc_count() >= limit // 2 or total + segment.doc_count() > limit:
                break
            chosen.append(segment)
            total += segment.doc_count()
        if len(chosen) < at_least:
            return segments
        for segment in chosen:
            reader = SegmentReader(writer.storage, writer.schema, segment)
            writer.add_reader(reader)
            reader.close()
        return [segment for segment in segments if segment not in chosen]

    return merge
