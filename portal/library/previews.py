"""PDF renditions for versions processed before the viewer existed (`flask make-previews`).

Processing keeps LibreOffice's PDF of every new deck, document and spreadsheet
(processing.py `save_preview`). Older versions get theirs from the queue: the file is
processed again in the same bounded child (assets/processing.py), and only the PDF is
kept; the version's pages, thumbnails and status stay as they are.

Decks rendered before hidden slides were exported are done again too: their PDF skipped
the hidden slides, so from the first hidden one on, page N and thumbnail N showed a later
slide than slide N. For those the thumbnails are redrawn as well (pages keep their ids).
"""

from __future__ import annotations

import logging
import os
import tempfile

from flask import current_app
from sqlalchemy import and_, case, or_, select

from assets.processing import process_file
from assets.thumbnails import MAX_RENDERED_PAGES
from assets.workdirs import WORK_DIR_PREFIX
from portal.decks.lineage import group_pages
from portal.extensions import db
from portal.library.processing import redraw_pages, save_preview
from portal.models import AssetVersion, Processing
from portal.queue import enqueue
from portal.storage import get_storage

log = logging.getLogger(__name__)

RENDERED_KINDS = ("pptx", "docx", "xlsx")


def versions_without_preview():
    """Processed office files that have no PDF rendition yet, or a deck's that skipped its hidden slides."""
    return select(AssetVersion.id).where(
        AssetVersion.kind.in_(RENDERED_KINDS), AssetVersion.processing == Processing.READY.value,
        or_(AssetVersion.preview_key.is_(None), _rendition_skips_slides())).order_by(AssetVersion.id)


def _rendition_skips_slides():
    """A deck's rendition with fewer pages than the slides it could print (one page a slide)."""
    printable = case((AssetVersion.page_count > MAX_RENDERED_PAGES, MAX_RENDERED_PAGES),
                     else_=AssetVersion.page_count)
    return and_(AssetVersion.kind == "pptx", AssetVersion.preview_pages < printable)


def rendition_skips_slides(version: AssetVersion) -> bool:
    return bool(version.kind == "pptx" and version.preview_key and version.page_count
                and (version.preview_pages or 0) < min(version.page_count, MAX_RENDERED_PAGES))


def queue_missing_previews() -> int:
    """Queue a rendition for every version that lacks one; returns how many were queued."""
    ids = list(db.session.scalars(versions_without_preview()))
    for version_id in ids:
        enqueue("make_preview", version_id)
    return len(ids)


def make_preview(version_id: int) -> bool:
    """Make and keep the PDF rendition of one version (a queue task). True when stored."""
    version = db.session.get(AssetVersion, version_id)
    if version is None or version.kind not in RENDERED_KINDS:
        return False
    redraw = rendition_skips_slides(version)
    if version.preview_key and not redraw:
        return False
    settings = current_app.config["SETTINGS"]
    with tempfile.TemporaryDirectory(prefix=WORK_DIR_PREFIX) as work_dir:
        source = os.path.join(work_dir, "source" + os.path.splitext(version.storage_key)[1])
        get_storage().download_to(version.storage_key, source)
        result = process_file(source, filename=version.filename, work_dir=work_dir,
                              timeout_seconds=settings.processing_timeout_seconds)
        stored = save_preview(version, result)
        if stored and redraw:
            redraw_pages(version, result)
        db.session.commit()
    if stored and redraw:
        group_pages([page.id for page in version.pages])
    if not stored:
        log.warning("no PDF rendition for version %s: %s", version_id, result.error or "; ".join(result.warnings))
    return stored
