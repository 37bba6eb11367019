"""After an upload: process the stored file and write what it yields.

The library's upload pipeline is: upload and store (services.py) -> process
here (text, pages, thumbnails, in a child process bounded in time and memory:
assets/processing.py) -> pages and thumbnails written to the database and
storage -> indexed (the commit puts the asset in the index outbox:
portal/search/indexing.py). The queue's task (tasks.py) only calls this.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time

from sqlalchemy import delete

from assets.processing import ProcessingResult, process_file
from assets.storage import safe_key
from portal.extensions import db
from portal.models import AssetVersion, Page, Processing, utcnow
from portal.storage import get_storage

log = logging.getLogger(__name__)


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


def process_version(version_id: int) -> None:
    """Extract text, pages and thumbnails of one uploaded version and store them."""
    version = db.session.get(AssetVersion, version_id)
    if version is None:
        return
    with tempfile.TemporaryDirectory(prefix="collateral-") as work_dir:
        source = os.path.join(work_dir, "source" + os.path.splitext(version.storage_key)[1])
        get_storage().download_to(version.storage_key, source)
        try:
            result = process_file(source, filename=version.filename, work_dir=work_dir,
                                  on_progress=_ProgressWriter(version))
        except Exception as error:  # process_file contains bad files; this is our own bug
            log.exception("processing version %s crashed", version_id)
            db.session.rollback()
            version.processing, version.error = Processing.FAILED, f"Processing stopped unexpectedly: {error}"
            version.processed_at = utcnow()
            db.session.commit()
            return
        _save_result(version, result)


def _save_result(version: AssetVersion, result: ProcessingResult) -> None:
    """Pages (text, notes, thumbnails) and the cover of a processed version, in one commit."""
    storage = get_storage()
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
