"""Temporary work directories of background jobs, and sweeping the ones a dead
process left behind.

Jobs make their directories in the system temp dir with the prefix
`collateral-` (processing: `collateral-*`, deck assembly: `collateral-deck-*`)
and remove them when done; a process killed mid-job cannot, so the sweeper
removes those untouched for longer than their job's deadline (no live job is
older than that: its child is killed at its time limit).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

WORK_DIR_PREFIX = "collateral-"
DECK_DIR_PREFIX = "collateral-deck-"
_MAX_ENTRIES = 10_000  # a directory with more is judged by what was looked at


def last_touched(path: str) -> float:
    """The newest modification time in a directory tree (what a live job keeps fresh)."""
    newest = os.lstat(path).st_mtime
    seen = 0
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            seen += 1
            try:
                newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
            except FileNotFoundError:
                continue
            if seen >= _MAX_ENTRIES:
                return newest
    return newest


def sweep_work_dirs(older_than: dict[str, float], root: str | None = None) -> list[str]:
    """Remove the work directories in `root` (the temp dir) that dead jobs left.

    `older_than` maps a name prefix to the age (seconds since anything in the directory
    was last written) past which such a directory is abandoned; the longest matching
    prefix counts, e.g. {WORK_DIR_PREFIX: 360, DECK_DIR_PREFIX: 240}. Returns the paths
    removed."""
    root = root or tempfile.gettempdir()
    prefixes = sorted(older_than, key=len, reverse=True)
    now = time.time()
    removed = []
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return removed
    for entry in entries:
        prefix = next((p for p in prefixes if entry.name.startswith(p)), None)
        if prefix is None:
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
            if last_touched(entry.path) >= now - older_than[prefix]:
                continue
        except FileNotFoundError:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        if not os.path.exists(entry.path):
            removed.append(entry.path)
    return removed
