"""After an upload: process the stored file and write what it yields.

The library's upload pipeline is: upload and store (services.py) -> process
here (text, pages, thumbnails, in a child process bounded in time and memory:
assets/processing.py) -> pages and thumbnails written to the database and
storage -> indexed (the commit puts the asset in the index outbox:
portal/search/indexing.py). The queue's task (tasks.py) only calls this; the
sweeper (portal/sweeper.py) calls `resume_interrupted` for versions whose
processing was cut off by a dead process.
"""

from __future__ import annotations

import logging
import os
import tempfile
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, delete, or_, select

from assets.processing import ProcessingResult, process_file
from assets.storage import safe_key
from assets.workdirs import WORK_DIR_PREFIX
from portal.decks.lineage import fingerprint
from portal.extensions import db
from portal.library import publishing
from portal.models import AssetVersion, Page, Processing, utcnow
from portal.queue import ProgressWriter, claim_job, enqueue, release_job
from portal.storage import get_storage

log = logging.getLogger(__name__)


def _lease(settings) -> dict:
    return {"pending": AssetVersion.processing == Processing.PENDING, "started": AssetVersion.processing_started_at,
            "attempts": AssetVersion.processing_attempts, "deadline_seconds": settings.processing_deadline_seconds,
            "max_attempts": settings.job_max_attempts}


def process_version(version_id: int) -> None:
    """Extract text, pages and thumbnails of one uploaded version and store them.

    Runs under a lease (portal/queue.py claim_job): a version that another live
    worker is processing, or that is done, is left alone."""
    settings = current_app.config["SETTINGS"]
    if not claim_job(AssetVersion, version_id, **_lease(settings)):
        return
    try:
        _process(db.session.get(AssetVersion, version_id), settings)
    except Exception:
        release_job(AssetVersion, version_id, started=AssetVersion.processing_started_at)
        raise


def _process(version: AssetVersion, settings) -> None:
    progress = ProgressWriter(version)
    with tempfile.TemporaryDirectory(prefix=WORK_DIR_PREFIX) as work_dir:
        source = os.path.join(work_dir, "source" + os.path.splitext(version.storage_key)[1])
        get_storage().download_to(version.storage_key, source)
        try:
            result = process_file(source, filename=version.filename, work_dir=work_dir,
                                  timeout_seconds=settings.processing_timeout_seconds,
                                  on_progress=lambda stage, done, total: progress(done, total))
        except Exception as error:  # process_file contains bad files; this is our own bug
            log.exception("processing version %s crashed", version.id)
            db.session.rollback()
            version.processing, version.error = Processing.FAILED, f"Processing stopped unexpectedly: {error}"
            version.processed_at = utcnow()
            db.session.commit()
            return
        _save_result(version, result)


def resume_interrupted(settings) -> tuple[list[int], list[int]]:
    """Versions still pending after their deadline: processing was cut off (or its task
    lost). Enqueue them again; those out of attempts fail with the reason. Returns
    (resumed ids, failed ids)."""
    lease = _lease(settings)
    resumed, failed = [], []
    for version in db.session.scalars(select(AssetVersion).where(stuck_versions(settings))):
        if version.processing_attempts >= lease["max_attempts"]:
            version.processing = Processing.FAILED
            version.error = (f"Processing was cut off {version.processing_attempts} times (the worker stopped "
                             "while working on this file), so it was not tried again. The file is kept; "
                             "upload it again or ask an administrator to look at it.")
            version.processed_at = utcnow()
            failed.append(version.id)
        else:
            resumed.append(version.id)
    db.session.commit()
    for version_id in resumed:
        enqueue("process_version", version_id)
    return resumed, failed


def stuck_versions(settings):
    """The condition of versions pending longer than the processing deadline."""
    limit = utcnow() - timedelta(seconds=settings.processing_deadline_seconds)
    return and_(AssetVersion.processing == Processing.PENDING,
                or_(AssetVersion.processing_started_at < limit,
                    and_(AssetVersion.processing_started_at.is_(None), AssetVersion.created_at < limit)))


def preview_key(version: AssetVersion) -> str:
    """Where the PDF rendition of a version is kept: beside its thumbnails."""
    return safe_key("thumbnails", f"v{version.id}", "preview.pdf")


def save_preview(version: AssetVersion, result: ProcessingResult) -> bool:
    """Keep the PDF LibreOffice made of a deck, document or spreadsheet, for the viewer
    (PDFs show themselves). The caller commits. True when one was stored."""
    if not result.preview_pdf or not os.path.exists(result.preview_pdf) or not result.preview_pages:
        return False
    version.preview_key = preview_key(version)
    with open(result.preview_pdf, "rb") as stream:
        get_storage().save(version.preview_key, stream, content_type="application/pdf")
    version.preview_pages = result.preview_pages
    return True


def _save_image(version: AssetVersion, name: str, png: str | None) -> str | None:
    """Store one of a version's images (a page's thumbnail, the cover) beside its rendition."""
    if not png:
        return None
    key = safe_key("thumbnails", f"v{version.id}", name)
    with open(png, "rb") as stream:
        get_storage().save(key, stream, content_type="image/png")
    return key


def redraw_pages(version: AssetVersion, result: ProcessingResult) -> None:
    """New thumbnails (and slide fingerprints) for a version's pages from a new rendering, in
    place: the page rows keep their ids, which decks, favourites and attention point at. The
    caller commits."""
    for page in version.pages:
        png = result.page_pngs.get(page.number)
        page.thumbnail_key = _save_image(version, f"page-{page.number}.png", png)
        if version.kind == "pptx":
            fingerprint(page, png)
            page.group_id = None  # grouped again from the new fingerprints
    if result.cover_png:
        version.cover_key = _save_image(version, "cover.png", result.cover_png)


def _save_result(version: AssetVersion, result: ProcessingResult) -> None:
    """Pages (text, notes, thumbnails) and the cover of a processed version, in one commit."""
    db.session.execute(delete(Page).where(Page.version_id == version.id))
    for content in result.pages:
        png = result.page_pngs.get(content.number)
        page = Page(version_id=version.id, asset_id=version.asset_id, number=content.number,
                    title=content.title[:2000], text=content.text, notes=content.notes,
                    thumbnail_key=_save_image(version, f"page-{content.number}.png", png))
        if result.kind == "pptx":  # slide lineage: fingerprints now, grouping queued below
            fingerprint(page, png)
        db.session.add(page)
    if result.cover_png:
        version.cover_key = _save_image(version, "cover.png", result.cover_png)
    save_preview(version, result)
    version.kind = result.kind
    version.slide_width_emu = result.metadata.get("slide_width_emu")  # decks: mixed sizes are fitted
    version.slide_height_emu = result.metadata.get("slide_height_emu")
    version.processing = result.status
    version.error = result.error
    version.warnings = "; ".join(result.warnings) or None
    version.page_count = result.page_count
    version.progress_done = version.progress_total = result.page_count
    version.processed_at = utcnow()
    db.session.commit()
    publishing.version_processed(version.id)
    if result.kind == "pptx" and result.pages:
        enqueue("group_slides", version.id)
