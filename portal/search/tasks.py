"""Index upkeep on the queue: draining the index outbox, and usage counts in batches."""

from __future__ import annotations

from datetime import timedelta

from huey import crontab
from sqlalchemy import select

from portal.extensions import db
from portal.models import UsageEvent, utcnow
from portal.queue import SLOW, enqueue, task
from portal.search import indexing

USAGE_REFRESH_MINUTES = 10


def _drain() -> None:
    if indexing.drain_outbox() == indexing.DRAIN_BATCH:
        enqueue("drain_index_outbox")  # more waiting: go on in a new task, one batch each


# Retries ride out a full reindex holding the index's write lock; the rows stay in the outbox.
@task("drain_index_outbox", retries=20, retry_delay=15)
def drain_index_outbox() -> None:
    """Index what committed changes put in the outbox (enqueued after each such commit)."""
    _drain()


@task("drain_index_outbox_periodic", schedule=crontab(minute="*"))
def drain_index_outbox_periodic() -> None:
    """Every minute: whatever a process that died between commit and enqueue left in the outbox."""
    _drain()


@task("rebuild_index", retries=2, retry_delay=60, lane=SLOW)
def rebuild_index() -> None:
    """A read found the index damaged: build a new generation from the database and swap it in."""
    indexing.rebuild_requested_index()


@task("refresh_usage_in_index", schedule=crontab(minute=f"*/{USAGE_REFRESH_MINUTES}"))
def refresh_usage_in_index() -> None:
    """Views and downloads are too frequent to reindex one by one; every few
    minutes the assets used since the last run get their usage count (which
    search sorting and ranking read) refreshed in one batch."""
    since = utcnow() - timedelta(minutes=USAGE_REFRESH_MINUTES + 1)
    asset_ids = list(db.session.scalars(
        select(UsageEvent.asset_id).where(UsageEvent.occurred_at >= since).distinct()
    ))
    if asset_ids:
        indexing.index_assets(asset_ids)
