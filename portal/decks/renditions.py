"""The PDF rendition of a built deck, so that a deck is read in the same viewer as an item:
the rep's own deck (/decks/ID/view) and a buyer's deck link (/s/TOKEN).

A rendition belongs to one build, that is to one revision of the deck (building.py): a
deck changed since has another revision, whose build and rendition are made afresh, so a
rendition never shows slides the deck no longer has. It is made only when someone asks to
view or share the deck (`prepare`), not for every download: LibreOffice costs seconds per
deck. The queue's slow lane converts the stored .pptx with LibreOffice (assets/office.py,
its own process group, bounded in time and memory); until it is ready, and when it fails
(the reason is kept), pages show the slide pictures instead.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from assets.office import OfficeError, convert_to_pdf
from assets.storage import ObjectNotFound, StorageError, safe_key
from assets.thumbnails import ThumbnailFailed, pdf_page_count
from assets.workdirs import DECK_DIR_PREFIX
from portal.decks import building
from portal.errors import InvalidInput
from portal.extensions import db
from portal.models import BuildStatus, Deck, DeckBuild, User, utcnow
from portal.queue import enqueue
from portal.storage import get_storage

log = logging.getLogger(__name__)

PENDING, READY, FAILED = "pending", "ready", "failed"


@dataclass(frozen=True)
class Rendition:
    """Where the viewer's copy of the deck as it is now stands: none (never asked), pending
    (the deck or its PDF is being made), ready, or failed (with the reason)."""

    state: str
    pdf_key: str | None = None
    pages: int = 0
    error: str | None = None

    @property
    def ready(self) -> bool:
        return self.state == READY

    def as_json(self) -> dict:
        return {"status": self.state, "pages": self.pages or None, "error": self.error}


NONE = Rendition("none")


def rendition_of(build: DeckBuild | None) -> Rendition:
    if build is None:
        return NONE
    if build.status == BuildStatus.FAILED:
        return Rendition(FAILED, error=build.error)
    if build.pdf_status == READY and build.status == BuildStatus.READY:
        return Rendition(READY, build.pdf_key, build.pdf_pages or 0)
    if build.pdf_status == FAILED:
        return Rendition(FAILED, error=build.pdf_error)
    if build.pdf_status == PENDING:
        return Rendition(PENDING)
    return NONE


def current(owner: User, deck: Deck) -> Rendition:
    """The rendition of the deck as it is now, read only (nothing is queued)."""
    try:
        return rendition_of(building.current_build(owner, deck))
    except InvalidInput:  # not downloadable as it is (no slides, retired slides): nothing to view
        return NONE


def prepare(owner: User, deck: Deck) -> Rendition:
    """Ask for the deck as it is now to be built (if it is not) and its PDF made (if it is
    not): the queue does both. Never raises for a deck that cannot be built: it has no
    rendition, and pages show its slide pictures."""
    try:
        build = building.request_build(owner, deck)
    except InvalidInput as error:
        return Rendition("none", error=error.message)
    return rendition_of(request(build))


def request(build: DeckBuild) -> DeckBuild:
    """Mark the build as wanting its PDF; queue the conversion when the file is there (a
    build still in progress queues it when it is done: `after_build`). A request whose task
    was lost (a dead worker) is queued again after the deck deadline."""
    if build.pdf_status in (READY, FAILED) or build.status == BuildStatus.FAILED:
        return build
    lost = utcnow() - timedelta(seconds=_settings().deck_deadline_seconds)
    if build.pdf_status == PENDING and (build.pdf_requested_at or lost) > lost:
        return build
    build.pdf_status, build.pdf_error, build.pdf_requested_at = PENDING, None, utcnow()
    db.session.commit()
    if build.status == BuildStatus.READY:
        enqueue("render_deck", build.id)
    db.session.commit()
    db.session.refresh(build)  # a queue running tasks inline has already made it
    return build


def after_build(build: DeckBuild) -> None:
    """A build just became ready: make its PDF if someone asked for it meanwhile."""
    if build.pdf_status == PENDING:
        enqueue("render_deck", build.id)


def _settings():
    return current_app.config["SETTINGS"]


def pdf_key(build: DeckBuild) -> str:
    return safe_key("decks", f"d{build.deck_id}", f"{build.revision}.pdf")


# --- the job ------------------------------------------------------------------------------------

def render(build_id: int) -> None:
    """Convert one build's .pptx to PDF (the queue's task); a second run finds it done."""
    build = db.session.get(DeckBuild, build_id)
    if build is None or build.status != BuildStatus.READY or build.pdf_status != PENDING:
        return
    settings = _settings()
    storage = get_storage()
    with tempfile.TemporaryDirectory(prefix=DECK_DIR_PREFIX) as workdir:
        source = os.path.join(workdir, "deck.pptx")
        try:
            storage.download_to(build.storage_key, source)
        except (ObjectNotFound, FileNotFoundError):
            return _fail(build, "The assembled deck is missing from storage; download the deck to assemble it again.")
        except StorageError as error:
            # Nothing wrong with the deck: the next view or share asks again.
            build.pdf_status, build.pdf_error = None, f"The assembled deck could not be fetched ({error})."
            db.session.commit()
            return None
        try:
            pdf = convert_to_pdf(source, workdir, timeout=settings.deck_timeout_seconds, kind="pptx",
                                 memory_limit_mb=settings.deck_memory_mb, max_pages=build.progress_total or None)
            pages = pdf_page_count(pdf)
        except (OfficeError, ThumbnailFailed) as error:
            return _fail(build, f"The deck could not be made readable in the browser: {error.reason}")
        if pages != build.progress_total:
            # Page N of the viewer must be slide N of the deck (beacons and analytics rely on it);
            # the pictures are right where a PDF with pages missing or added would not be.
            return _fail(build, f"The readable copy has {pages} pages for {build.progress_total} slides.")
        key = pdf_key(build)
        try:
            with open(pdf, "rb") as stream:
                storage.save(key, stream, content_type="application/pdf")
        except StorageError as error:
            build.pdf_status, build.pdf_error = None, f"The readable copy could not be stored ({error})."
            db.session.commit()
            return None
    build.pdf_status, build.pdf_key, build.pdf_pages, build.pdf_error = READY, key, pages, None
    db.session.commit()
    return None


def _fail(build: DeckBuild, reason: str) -> None:
    log.warning("deck build %s has no PDF rendition: %s", build.id, reason)
    build.pdf_status, build.pdf_error = FAILED, reason
    db.session.commit()
