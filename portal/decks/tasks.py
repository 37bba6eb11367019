"""The decks' background tasks: assembling a deck's .pptx (portal/decks/building.py) and its
PDF for the viewer (renditions.py);
grouping a processed deck's slides with their copies and the backfill (lineage.py)."""

from __future__ import annotations

from portal.queue import SLOW, task


@task("build_deck", retries=1, retry_delay=30, lane=SLOW)
def build_deck(build_id: int) -> None:
    from portal.decks.building import build

    build(build_id)


@task("render_deck", retries=1, retry_delay=30, lane=SLOW)
def render_deck(build_id: int) -> None:
    from portal.decks.renditions import render

    render(build_id)


@task("group_slides", retries=1, retry_delay=30)
def group_slides(version_id: int) -> None:
    from portal.decks.lineage import after_processing

    after_processing(version_id)


@task("lineage_backfill", retries=1, retry_delay=60, lane=SLOW)
def lineage_backfill(version_ids: list[int]) -> None:
    from portal.decks.lineage import backfill

    backfill(version_ids)
