"""The library's background task: processing an uploaded version (portal/library/processing.py)."""

from __future__ import annotations

from portal.queue import SLOW, task


@task("process_version", retries=1, retry_delay=30, lane=SLOW)
def process_version(version_id: int) -> None:
    from portal.library.processing import process_version as process

    process(version_id)


@task("make_preview", retries=1, retry_delay=60, lane=SLOW)
def make_preview(version_id: int) -> None:
    from portal.library.previews import make_preview as make

    make(version_id)
