"""Child processes that are bounded in memory and time and die with their parent.

Heavy work on untrusted files (processing an upload, assembling a deck) runs in
`python -m <module>`: the child gets an address-space limit (RLIMIT_AS), the
parent kills its whole process group at a wall-clock deadline, and the kernel
kills the child when the parent dies (PR_SET_PDEATHSIG), so a worker killed
with SIGKILL leaves no orphan behind. Grandchildren the child starts
(LibreOffice) get the same treatment through `preexec` (see assets/office.py).

The child reports to the parent over a pipe, one JSON object per line; what
the messages mean is up to the module (assets/processing.py, assets/deck_builder.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_REPO_ROOT = str(Path(__file__).resolve().parent.parent)
PR_SET_PDEATHSIG = 1
MEMORY_HINTS = ("MemoryError", "bad_alloc", "Cannot allocate memory", "out of memory", "Out of memory")

_libc = None


def _prctl():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc.prctl


def die_with_parent(parent_pid: int, sig: int = signal.SIGKILL) -> None:
    """Have the kernel send `sig` to this process when its parent dies.

    Checked against the parent's pid afterwards: if the parent died before the
    request was made, the signal would never come, so this process goes now."""
    try:
        _prctl()(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent's deadline still bounds the work
        pass
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), sig)


def limit_memory(memory_limit_mb: int | None) -> None:
    """Cap this process's address space (RLIMIT_AS); allocations past it fail."""
    if not memory_limit_mb:
        return
    import resource

    limit = int(memory_limit_mb) * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or limit < hard:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def preexec(memory_limit_mb: int | None = None) -> Callable[[], None]:
    """A Popen preexec_fn for a program this process starts (LibreOffice): it dies
    with this process and stays within `memory_limit_mb`."""
    parent = os.getpid()
    _prctl()  # load libc before the fork, not in the forked child

    def setup() -> None:
        limit_memory(memory_limit_mb)
        die_with_parent(parent)

    return setup


@dataclass
class ChildOutcome:
    returncode: int
    timed_out: bool
    stderr_tail: str

    @property
    def out_of_memory(self) -> bool:
        return any(hint in self.stderr_tail for hint in MEMORY_HINTS) or self.returncode == -signal.SIGKILL


def run_child(module: str, job: dict, *, cwd: str, timeout: float,
              on_message: Callable[[dict], None]) -> ChildOutcome:
    """Run `python -m module FD JOB` and hand each message it sends to `on_message`.

    The job gets `parent_pid`, for `child_setup`. The child is killed (its whole
    process group) at the deadline or when `on_message` raises; the outcome says
    how it ended. Raises OSError when the child cannot be started."""
    job = {**job, "parent_pid": os.getpid()}
    read_fd, write_fd = os.pipe()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_REPO_ROOT, env.get("PYTHONPATH")) if p)
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryFile() as stderr:
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", module, str(write_fd), json.dumps(job)],
                pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=stderr, cwd=cwd, env=env, start_new_session=True)
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            raise
        os.close(write_fd)
        timed_out = False
        try:
            buffer = b""
            with os.fdopen(read_fd, "rb", buffering=0) as pipe:
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        timed_out = True
                        break
                    ready, _, _ = select.select([pipe], [], [], min(remaining, 1.0))
                    if not ready:
                        continue
                    chunk = pipe.read(1 << 16)
                    if not chunk:
                        break
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        if line.strip():
                            on_message(json.loads(line))
        finally:
            if timed_out or child.poll() is None:
                stop(child, grace=0 if timed_out else 5)
            child.wait()
        stderr.seek(0, os.SEEK_END)
        stderr.seek(max(0, stderr.tell() - 8192))
        stderr_tail = stderr.read().decode("utf-8", "replace")
    return ChildOutcome(child.returncode, timed_out, stderr_tail)


def killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop(child: subprocess.Popen, grace: float) -> None:
    """SIGTERM lets the child stop what it started first; SIGKILL follows."""
    if grace:
        try:
            child.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            pass
    killpg(child.pid, signal.SIGTERM)
    try:
        child.wait(timeout=2)
    except subprocess.TimeoutExpired:
        pass
    killpg(child.pid, signal.SIGKILL)


class Channel:
    """The child's end of the pipe: send(**message) writes one message to the parent."""

    def __init__(self, fd: int):
        self.out = os.fdopen(fd, "w", buffering=1, encoding="utf-8")

    def send(self, **message) -> None:
        self.out.write(json.dumps(message) + "\n")
        self.out.flush()

    def close(self) -> None:
        self.out.close()


def child_setup(job: dict, fd: int) -> Channel:
    """The first thing a child does: die with its parent, cap its memory, and
    open its channel to the parent."""
    die_with_parent(int(job["parent_pid"]))
    limit_memory(job.get("memory_limit_mb"))
    return Channel(fd)
