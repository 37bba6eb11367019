"""The decks' background task: assembling a deck's .pptx (portal/decks/building.py)."""

from __future__ import annotations

from portal.queue import SLOW, task


@task("build_deck", retries=1, retry_delay=30, lane=SLOW)
def build_deck(build_id: int) -> None:
    from portal.decks.building import build

    build(build_id)
