"""Background tasks: file processing and index upkeep (more register elsewhere)."""

from __future__ import annotations

import importlib
import logging
import os
import tempfile
import time
from datetime import timedelta

from flask import Flask
from huey import crontab
from sqlalchemy import delete, select

from assets.processing import process_file
from assets.storage import safe_key
from portal.extensions import db
from portal.models import AssetVersion, Page, UsageEvent, utcnow
from portal.queue import bind_tasks, enqueue, task
from portal.storage import get_storage

log = logging.getLogger(__name__)

# Modules whose @task functions must be registered before the queue is bound.
TASK_MODULES = ("portal.tasks", "portal.analytics.tasks")


def register(app: Flask) -> None:
    for name in TASK_MODULES + tuple(app.config.get("EXTRA_TASK_MODULES", ())):
        importlib.import_module(name)
    bind_tasks(app)


class _ProgressWriter:
    """Saves processing progress at most twice a second (the asset page polls it)."""

    def __init__(self, version: AssetVersion):
        self.version = version
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.5 and done < total:
            return
        self.last = now
        self.version.progress_done, self.version.progress_total = done, total
        db.session.commit()


@task("process_version", retries=1, retry_delay=30)
def process_version(version_id: int) -> None:
    """Extract text, pages and thumbnails of one uploaded version, then index it."""
    version = db.session.get(AssetVersion, version_id)
    if version is None:
        return
    storage = get_storage()
    with tempfile.TemporaryDirectory(prefix="collateral-") as work_dir:
        source = os.path.join(work_dir, "source" + os.path.splitext(version.storage_key)[1])
        storage.download_to(version.storage_key, source)
        try:
            result = process_file(source, filename=version.filename, work_dir=work_dir,
                                  on_progress=_ProgressWriter(version))
        except Exception as error:  # process_file contains bad files; this is our own bug
            log.exception("processing version %s crashed", version_id)
            db.session.rollback()
            version.processing, version.error = "failed", f"Processing stopped unexpectedly: {error}"
            version.processed_at = utcnow()
            db.session.commit()
            return

        db.session.execute(delete(Page).where(Page.version_id == version.id))
        prefix = ("thumbnails", f"v{version.id}")
        for content in result.pages:
            thumbnail_key = None
            png = result.page_pngs.get(content.number)
            if png:
                thumbnail_key = safe_key(*prefix, f"page-{content.number}.png")
                with open(png, "rb") as stream:
                    storage.save(thumbnail_key, stream, content_type="image/png")
            db.session.add(Page(version_id=version.id, asset_id=version.asset_id, number=content.number,
                                title=content.title[:2000], text=content.text, notes=content.notes,
                                thumbnail_key=thumbnail_key))
        if result.cover_png:
            version.cover_key = safe_key(*prefix, "cover.png")
            with open(result.cover_png, "rb") as stream:
                storage.save(version.cover_key, stream, content_type="image/png")
        version.kind = result.kind
        version.processing = result.status
        version.error = result.error
        version.warnings = "; ".join(result.warnings) or None
        version.page_count = result.page_count
        version.progress_done = version.progress_total = result.page_count
        version.processed_at = utcnow()
        db.session.commit()
    enqueue("index_assets", [version.asset_id])


@task("index_assets", retries=20, retry_delay=15)
def index_assets_task(asset_ids: list[int]) -> None:
    # Retries ride out a full reindex holding the index's write lock.
    from portal.indexing import index_assets

    index_assets(asset_ids)


USAGE_REFRESH_MINUTES = 10


@task("refresh_usage_in_index", schedule=crontab(minute=f"*/{USAGE_REFRESH_MINUTES}"))
def refresh_usage_in_index() -> None:
    """Views and downloads are too frequent to reindex one by one; every few
    minutes the assets used since the last run get their usage count (which
    search sorting and ranking read) refreshed in one batch."""
    from portal.indexing import index_assets

    since = utcnow() - timedelta(minutes=USAGE_REFRESH_MINUTES + 1)
    asset_ids = list(db.session.scalars(
        select(UsageEvent.asset_id).where(UsageEvent.occurred_at >= since).distinct()
    ))
    if asset_ids:
        index_assets(asset_ids)
