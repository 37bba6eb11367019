"""The cross-process lock in front of every index write (the single writer).

Gunicorn workers and the queue worker all write the same index. Whoosh's own
lock fails at once with LockError; this one waits (bounded, with back-off) on
`fcntl.flock` of a file beside the index, so concurrent writes queue up instead
of failing, and a write is never lost. Waiters poll often (every 20 ms at most):
the lock is free only for the moment between one writer's commits, and waiters
that slept 100 ms at a time missed that moment for over a minute on a loaded
machine while four processes committed in turn. The kernel drops the lock when a process
dies, so a crashed writer never leaves the index locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator

LOCK_NAME = "write.lock"
MAX_POLL = 0.02  # seconds between two tries of a waiter


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
                delay = min(delay * 2, MAX_POLL)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

