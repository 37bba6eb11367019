"""The cross-process lock in front of every index write (the single writer).

Gunicorn workers and the queue worker all write the same index. Whoosh's own
lock fails at once with LockError; this one waits (bounded) on `fcntl.flock` of
a file beside the index, so concurrent writes queue up instead of failing, and
a write is never lost. The kernel drops the lock when a process dies, so a
crashed writer never leaves the index locked.

Waiters wait inside the kernel (a blocking flock), which wakes them the moment
the lock is released. Waiters that polled instead (sleep, try again) lost the
lock to the writer that had just released it, which took it again for its next
commit before any sleeper woke: under load one writer waited out its whole
timeout while three others committed in turn. A blocking flock cannot be given
a timeout, so it runs in a thread of its own; a waiter that gives up leaves
that thread to release the lock at once if it gets it later.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator

LOCK_NAME = "write.lock"


class IndexBusy(Exception):
    """The write lock could not be had in time; the caller retries later."""


class _Waiter:
    """One blocking flock in a thread, which the caller waits for at most so long."""

    def __init__(self, fd: int):
        self.fd = fd
        self.got = threading.Event()
        self.failure: OSError | None = None
        self.abandoned = False
        self.guard = threading.Lock()
        threading.Thread(target=self._take, name="search-write-lock", daemon=True).start()

    def _take(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError as error:
            self.failure = error
        with self.guard:
            if not self.abandoned:
                self.got.set()
                return
        # The caller gave up meanwhile: the lock (if had) and the file are ours to let go.
        os.close(self.fd)

    def wait(self, timeout: float) -> bool:
        """True when the lock is held; False when the caller gave up (the thread
        then closes the file)."""
        interrupted = True
        try:
            self.got.wait(timeout)
            interrupted = False
        finally:
            with self.guard:
                self.abandoned = not self.got.is_set()
            if interrupted and not self.abandoned:
                os.close(self.fd)  # closing the file lets the lock go
        if self.abandoned:
            return False
        if self.failure is not None:
            os.close(self.fd)
            raise self.failure
        return True


@contextlib.contextmanager
def write_lock(directory: str, timeout: float) -> Iterator[None]:
    os.makedirs(directory, exist_ok=True)
    fd = os.open(os.path.join(directory, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        if not _Waiter(fd).wait(timeout):  # the file is the waiter's now
            raise IndexBusy(f"The search index was busy for {timeout:.0f} s.") from None
    except BaseException:
        os.close(fd)
        raise
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
