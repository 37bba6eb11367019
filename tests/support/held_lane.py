"""A slow-lane task that holds its lane until told to go on, for the lane tests
(tests/portal/test_queue_lanes.py); files, so it works across processes.

`flask --app tests.support.held_lane worker` runs the real worker with it registered.
"""

from __future__ import annotations

import time
from pathlib import Path

from portal import create_app  # noqa: F401  (the app factory `flask --app` finds here)
from portal.queue import SLOW, task

HOLD_LIMIT_SECONDS = 180  # never hold a worker forever, whatever happens to the test


@task("hold_slow_lane", lane=SLOW)
def hold_slow_lane(directory: str) -> None:
    """Write `started`, wait for `release` to appear, then write `done`."""
    folder = Path(directory)
    (folder / "started").touch()
    deadline = time.monotonic() + HOLD_LIMIT_SECONDS
    while not (folder / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    (folder / "done").touch()
