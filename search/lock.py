"""The cross-process lock in front of every index write (the single writer).

Gunicorn workers and the queue worker all write the same index. Whoosh's own
lock fails at once with LockError; this one waits (bounded) on `fcntl.flock` of
a file beside the index, so concurrent writes queue up instead of failing, and
a write is never lost. The kernel drops a process's locks when it dies, so a
crashed writer never leaves the index locked.

Writers queue in the order they came (first come, first served). A flock has
no order: the kernel wakes every waiter when it is released, and the writer that
just released it, still running, took it again for its next commit before they
ran. Under load one writer waited out its whole 60 s while three others
committed in turn (polling waiters lost even more often). So each writer first
draws a ticket (a number, from a counter file) and holds a flock on a file of
its own named by it, `write.queue/<ticket>`, until its write is done; it waits
for the writer before it by taking a shared flock on that writer's file, which
the kernel grants when that writer is done or dead, and only then takes the
write lock itself. A blocking flock cannot be given a timeout, so the waits run
in a thread; a waiter that gives up leaves that thread to close the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator

LOCK_NAME = "write.lock"
QUEUE = "write.queue"  # a file per writer waiting or writing, named by its ticket
COUNTER = "next-ticket"


class IndexBusy(Exception):
    """The write lock could not be had in time; the caller retries later."""


class _Waiter:
    """One blocking flock in a thread, which the caller waits for at most so long."""

    def __init__(self, fd: int, operation: int):
        self.fd = fd
        self.operation = operation
        self.got = threading.Event()
        self.failure: OSError | None = None
        self.abandoned = False
        self.guard = threading.Lock()
        threading.Thread(target=self._take, name="search-write-lock", daemon=True).start()

    def _take(self) -> None:
        try:
            fcntl.flock(self.fd, self.operation)
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


def _flock(path: str, operation: int, deadline: float, *, create: bool = True) -> int | None:
    """The file's descriptor with the flock held; None when the time ran out
    (or the file is gone, with create=False)."""
    try:
        fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        if _Waiter(fd, operation).wait(max(0.0, deadline - time.monotonic())):
            return fd
        return None  # the waiter's thread closes the file
    except BaseException:
        os.close(fd)
        raise


def _ticket(queue: str, deadline: float) -> int:
    fd = _flock(os.path.join(queue, COUNTER), fcntl.LOCK_EX, deadline)
    if fd is None:
        raise IndexBusy("The search index's writer queue was busy.")
    try:
        with os.fdopen(os.dup(fd), "r+") as counter:
            text = counter.read().strip()
            ticket = int(text) if text.isdigit() else 0
            counter.seek(0)
            counter.truncate()
            counter.write(str(ticket + 1))
        return ticket
    finally:
        os.close(fd)


def _writers_before(queue: str, ticket: int) -> list[int]:
    return sorted((int(name) for name in os.listdir(queue) if name.isdigit() and int(name) < ticket), reverse=True)


@contextlib.contextmanager
def write_lock(directory: str, timeout: float) -> Iterator[None]:
    queue = os.path.join(directory, QUEUE)
    os.makedirs(queue, exist_ok=True)
    deadline = time.monotonic() + timeout
    busy = f"The search index was busy for {timeout:.0f} s."
    ticket = _ticket(queue, deadline)
    mine = os.path.join(queue, str(ticket))
    place = _flock(mine, fcntl.LOCK_EX, deadline)  # nobody else takes a ticket's file exclusively
    try:
        if place is None:
            raise IndexBusy(busy)
        for before in _writers_before(queue, ticket):  # the nearest first: the others went before it
            path = os.path.join(queue, str(before))
            fd = _flock(path, fcntl.LOCK_SH, deadline, create=False)
            if fd is None:
                if os.path.exists(path):
                    raise IndexBusy(busy)
                continue  # done meanwhile
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)  # done, or died without removing it
            os.close(fd)
        lock = _flock(os.path.join(directory, LOCK_NAME), fcntl.LOCK_EX, deadline)
        if lock is None:
            raise IndexBusy(busy)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            os.close(lock)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(mine)
        if place is not None:
            os.close(place)
