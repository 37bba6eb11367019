"""Assembling a deck's .pptx, off the request.

A download asks for the build of the deck's current revision (`request_build`):
the revision is a digest of which slide of which file sits where, so an
unchanged deck is served from the file kept in storage and a changed one is
built again. The queue's task (tasks.py) runs `build`, which fetches the source
files into a work directory and assembles them in a child process bounded in
memory, time and size (assets/deck_builder.py `build_deck_in_child`); a deck
too large is refused with the reason, and the web process never holds it.
Progress goes to the build's row, which the deck page polls. Builds hold a
lease (portal/queue.py): one cut off by a dead worker is picked up again by the
sweeper (`resume_interrupted`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from assets.deck_builder import BuildOutcome, SlideRef, build_deck_in_child
from assets.storage import ObjectNotFound, StorageError, safe_key
from assets.workdirs import DECK_DIR_PREFIX
from portal.decks.services import PPTX_MIME, SlideState, downloadable_states
from portal.errors import InvalidInput
from portal.extensions import db
from portal.models import BuildStatus, Deck, DeckBuild, User, utcnow
from portal.queue import ProgressWriter, claim_job, enqueue, release_job
from portal.storage import get_storage

log = logging.getLogger(__name__)

BUILDER_VERSION = 2  # part of every revision: a change in how decks are built rebuilds them
IN_FLIGHT = (BuildStatus.PENDING.value, BuildStatus.BUILDING.value)
# Failures worth another try when the deck is asked for again, at most JOB_MAX_ATTEMPTS times
# (never a deck that is too large or unreadable: it would fail the same way).
RETRYABLE = ("unavailable", "crashed", "missing")
# Failures that said nothing about this revision of the deck: it is built afresh.
NOT_THIS_REVISION = ("superseded", "invalid")
POLL_SECONDS = 0.25


def chosen_size(deck: Deck) -> tuple[int, int] | None:
    """The slide size the rep chose; None: the first slide's deck's (the builder reads it)."""
    return (deck.size_width_emu, deck.size_height_emu) if deck.size_width_emu and deck.size_height_emu else None


def revision(states: list[SlideState], size: tuple[int, int] | None = None) -> str:
    """A digest of what the assembled file holds: its slide size and each slide's page of a
    file version, in order."""
    content = [BUILDER_VERSION, list(size) if size else None] + [
        [s.page.id, s.page.version_id, s.page.number, s.page.version.sha256] for s in states]
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:40]


def _settings():
    return current_app.config["SETTINGS"]


def _find(deck_id: int, rev: str) -> DeckBuild | None:
    return db.session.scalars(
        select(DeckBuild).where(DeckBuild.deck_id == deck_id, DeckBuild.revision == rev)
    ).first()


def current_build(user: User, deck: Deck) -> DeckBuild | None:
    """The build of the deck as it is now, if one was asked for (422 if it cannot be downloaded)."""
    return _find(deck.id, revision(downloadable_states(user, deck), chosen_size(deck)))


def request_build(user: User, deck: Deck) -> DeckBuild:
    """The build of the deck as it is now: the one there is, or a new one on the queue.

    Refuses (422) a deck that cannot be downloaded: no slides, retired slides (reps)."""
    states = downloadable_states(user, deck)
    rev = revision(states, chosen_size(deck))
    build = _find(deck.id, rev)
    if build is None:
        build = DeckBuild(deck_id=deck.id, revision=rev, status=BuildStatus.PENDING, progress_total=len(states))
        db.session.add(build)
        try:
            db.session.commit()
        except IntegrityError:  # another request asked for the same revision at the same moment
            db.session.rollback()
            return _find(deck.id, rev)
        enqueue("build_deck", build.id)
        return _fresh(build)
    failed = build.status == BuildStatus.FAILED
    again = failed and build.error_code in RETRYABLE and build.attempts < _settings().job_max_attempts
    afresh = (failed and build.error_code in NOT_THIS_REVISION) or \
        (build.status == BuildStatus.READY and not _stored(build))  # the kept file is gone
    if again or afresh:
        build.status, build.error, build.error_code = BuildStatus.PENDING, None, None
        build.started_at, build.progress_done = None, 0
        if afresh:
            build.attempts = 0
        db.session.commit()
        enqueue("build_deck", build.id)
        return _fresh(build)
    return build


def _fresh(build: DeckBuild) -> DeckBuild:
    """The row as committed now (a queue running tasks inline has already built it)."""
    db.session.commit()
    db.session.refresh(build)
    return build


def start_build(user: User, deck: Deck) -> DeckBuild:
    """request_build for a page or client that polls: a failed build answers its reason."""
    build = request_build(user, deck)
    if build.status == BuildStatus.FAILED:
        raise refusal(build)
    return build


def _stored(build: DeckBuild) -> bool:
    try:
        return bool(build.storage_key) and get_storage().exists(build.storage_key)
    except StorageError:
        return True  # storage is down: serving will say so; do not rebuild for that


def wait_for(build: DeckBuild, seconds: float) -> DeckBuild:
    """Wait (at most `seconds`) while the build is queued or running; returns it fresh."""
    deadline = time.monotonic() + seconds
    while True:
        build = _fresh(build)
        if build.status not in IN_FLIGHT or time.monotonic() >= deadline:
            return build
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))


def refusal(build: DeckBuild) -> InvalidInput:
    """The failed build's reason as an answer: 503 when storage was unavailable, else 422."""
    status = 503 if build.error_code == "unavailable" else 422
    return InvalidInput(build.error or "The deck could not be assembled.", {"deck": build.error_code or "failed"},
                        status=status)


# --- the job ------------------------------------------------------------------------------------

def _lease(settings) -> dict:
    return {"pending": DeckBuild.status.in_(IN_FLIGHT), "started": DeckBuild.started_at,
            "attempts": DeckBuild.attempts, "deadline_seconds": settings.deck_deadline_seconds,
            "max_attempts": settings.job_max_attempts}


def build(build_id: int) -> None:
    """Assemble one build (the queue's task)."""
    settings = _settings()
    if not claim_job(DeckBuild, build_id, status=BuildStatus.BUILDING, **_lease(settings)):
        return
    try:
        _build(db.session.get(DeckBuild, build_id), settings)
    except Exception:
        release_job(DeckBuild, build_id, started=DeckBuild.started_at, status=BuildStatus.PENDING)
        raise


def _build(build: DeckBuild, settings) -> None:
    deck = build.deck
    owner = deck.owner
    try:
        states = downloadable_states(owner, deck)
    except InvalidInput as error:
        return _fail(build, "invalid", error.message)
    if revision(states, chosen_size(deck)) != build.revision:
        # The deck changed after this build was asked for; its new revision has its own build.
        return _fail(build, "superseded", "The deck changed while it was being assembled; download it again.")
    build.progress_done, build.progress_total = 0, len(states)
    db.session.commit()
    storage = get_storage()
    with tempfile.TemporaryDirectory(prefix=DECK_DIR_PREFIX) as workdir:
        sources: dict[int, str] = {}
        for state in states:
            version = state.page.version
            if version.id in sources:
                continue
            path = os.path.join(workdir, f"source-{version.id}.pptx")
            try:
                storage.download_to(version.storage_key, path)
            except (ObjectNotFound, FileNotFoundError):
                return _fail(build, "missing", f"The file of “{state.asset.title}” (version {version.number}) is "
                             "missing from storage; remove its slides or ask its owner to upload it again.")
            except StorageError as error:
                return _fail(build, "unavailable", f"The file of “{state.asset.title}” could not be fetched "
                             f"({error}); try again later.")
            sources[version.id] = path
        out = os.path.join(workdir, "deck.pptx")
        outcome = build_deck_in_child(
            [SlideRef(sources[s.page.version_id], s.page.number) for s in states], out,
            max_bytes=settings.deck_max_bytes, memory_limit_mb=settings.deck_memory_mb,
            timeout_seconds=settings.deck_timeout_seconds, on_progress=ProgressWriter(build),
            size=chosen_size(deck))
        if not outcome.ok:
            return _fail(build, outcome.code or "crashed", _reason(outcome, states))
        key = safe_key("decks", f"d{deck.id}", f"{build.revision}.pptx")
        try:
            with open(out, "rb") as stream:
                stored = storage.save(key, stream, content_type=PPTX_MIME)
        except StorageError as error:
            return _fail(build, "unavailable", f"The assembled deck could not be stored ({error}); try again later.")
    build.status, build.storage_key, build.size = BuildStatus.READY, key, stored.size
    build.progress_done = build.progress_total
    build.finished_at = utcnow()
    try:
        db.session.commit()
    except Exception:  # the deck was deleted meanwhile
        db.session.rollback()
        storage.delete(key)
        raise
    _forget_older_builds(build)
    from portal.decks.renditions import after_build

    after_build(build)


def _fail(build: DeckBuild, code: str, reason: str) -> None:
    build.status, build.error_code, build.error = BuildStatus.FAILED, code, reason
    build.finished_at = utcnow()
    db.session.commit()


def _mb(size: int) -> str:
    return f"{size / 2**20:,.0f} MB" if size >= 10 * 2**20 else f"{size / 2**20:,.1f} MB"


def _reason(outcome: BuildOutcome, states: list[SlideState]) -> str:
    """The outcome's reason; for a deck too large, naming its largest slides."""
    reason = outcome.error or "The deck could not be assembled."
    if outcome.code != "too_large" or not outcome.slide_bytes:
        return reason
    largest: dict[int, tuple[int, list[int]]] = {}  # page id -> (bytes, positions)
    for state, size in zip(states, outcome.slide_bytes, strict=False):
        largest.setdefault(state.page.id, (size, []))[1].append(state.slide.position)
    top = sorted(largest.items(), key=lambda item: -item[1][0] * len(item[1][1]))[:3]
    by_id = {s.page.id: s for s in states}
    named = []
    for page_id, (size, positions) in top:
        state = by_id[page_id]
        uses = f", used {len(positions)} times" if len(positions) > 1 else ""
        named.append(f"“{state.asset.title}” slide {state.page.number} ({_mb(size)}{uses})")
    return f"{reason} The largest: {'; '.join(named)}."


def _forget_older_builds(build: DeckBuild) -> None:
    """Only the newest revision of a deck is kept in storage."""
    storage = get_storage()
    older = db.session.scalars(select(DeckBuild).where(
        DeckBuild.deck_id == build.deck_id, DeckBuild.id != build.id, DeckBuild.status.not_in(IN_FLIGHT)))
    for old in list(older):
        for key in (old.storage_key, old.pdf_key):
            if key:
                storage.delete(key)
        db.session.delete(old)
    db.session.commit()


# --- the sweeper's part ------------------------------------------------------------------------------

def stuck_builds(settings):
    """The condition of builds queued or running longer than the deadline."""
    limit = utcnow() - timedelta(seconds=settings.deck_deadline_seconds)
    return and_(DeckBuild.status.in_(IN_FLIGHT),
                or_(DeckBuild.started_at < limit, and_(DeckBuild.started_at.is_(None), DeckBuild.created_at < limit)))


def resume_interrupted(settings) -> tuple[list[int], list[int]]:
    """Builds cut off by a dead worker (or whose task was lost): enqueue them again;
    those out of attempts fail with the reason. Returns (resumed ids, failed ids)."""
    resumed, failed = [], []
    for stuck in db.session.scalars(select(DeckBuild).where(stuck_builds(settings))):
        if stuck.attempts >= settings.job_max_attempts:
            stuck.status, stuck.error_code = BuildStatus.FAILED, "interrupted"
            stuck.error = (f"Assembling the deck was cut off {stuck.attempts} times (the worker stopped while "
                           "working on it); remove some slides and try again.")
            stuck.finished_at = utcnow()
            failed.append(stuck.id)
        else:
            resumed.append(stuck.id)
    db.session.commit()
    for build_id in resumed:
        enqueue("build_deck", build_id)
    return resumed, failed
