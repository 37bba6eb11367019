"""System health: database, storage, search index, task queue, and work that is
stuck (pending longer than its deadline: cut off by a dead process and not yet
picked up again by the sweeper, portal/sweeper.py)."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select, text

from portal.decks.building import IN_FLIGHT, stuck_builds
from portal.extensions import db
from portal.library.processing import stuck_versions
from portal.models import Asset, AssetVersion, DeckBuild
from portal.queue import get_queue
from portal.search.indexing import get_index
from portal.storage import get_storage
from portal.wording import plural


def system_health() -> dict:
    checks: dict[str, dict] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True, "detail": db.engine.url.render_as_string(hide_password=True)}
    except Exception as error:  # the page must render even when a part is down
        checks["database"] = {"ok": False, "detail": str(error)}
    problem = get_storage().check()
    checks["storage"] = {"ok": problem is None, "detail": problem or type(get_storage()).__name__}
    damaged = get_index().damaged()
    try:
        if damaged:
            raise RuntimeError(f"damaged ({damaged}): searches answer 'being rebuilt' until the rebuild "
                               "queued from the database is live (or run flask --app portal reindex)")
        counts = get_index().doc_counts()
        assets = db.session.scalar(select(func.count()).select_from(Asset)) or 0
        checks["index"] = {"ok": counts.get("assets", 0) == assets,
                           "detail": f"{counts.get('assets', 0)} of {plural(assets, 'asset')}, {plural(counts.get('pages', 0), 'page')}"}
    except Exception as error:
        checks["index"] = {"ok": False, "detail": str(error)}
    try:
        pending = get_queue().pending_counts()
        checks["queue"] = {"ok": True, "detail": ", ".join(f"{lane}: {n} task(s) waiting" for lane, n in pending.items())}
    except Exception as error:
        checks["queue"] = {"ok": False, "detail": str(error)}
    settings = current_app.config["SETTINGS"]
    processing = dict(db.session.execute(
        select(AssetVersion.processing, func.count()).group_by(AssetVersion.processing)
    ).all())
    detail = ", ".join(f"{k}: {v}" for k, v in sorted(processing.items())) or "no files"
    stuck = list(db.session.scalars(select(AssetVersion.id).where(stuck_versions(settings))
                                    .order_by(AssetVersion.id).limit(LISTED + 1)))
    if stuck:
        detail += (f"; stuck: {_ids('version', stuck)} pending for more than "
                   f"{_duration(settings.processing_deadline_seconds)} (the processing deadline)")
    checks["processing"] = {"ok": not stuck, "detail": detail}
    stuck = list(db.session.scalars(select(DeckBuild.id).where(stuck_builds(settings))
                                    .order_by(DeckBuild.id).limit(LISTED + 1)))
    in_flight = db.session.scalar(select(func.count()).select_from(DeckBuild)
                                  .where(DeckBuild.status.in_(IN_FLIGHT))) or 0
    detail = f"{in_flight} in progress"
    if stuck:
        detail += (f"; stuck: {_ids('build', stuck)} in progress for more than "
                   f"{_duration(settings.deck_deadline_seconds)} (the assembly deadline)")
    checks["deck builds"] = {"ok": not stuck, "detail": detail}
    return checks


LISTED = 10


def _ids(noun: str, ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:LISTED])
    more = " and more" if len(ids) > LISTED else ""
    return f"{noun}{'s' if len(ids) > 1 else ''} {shown}{more}"


def _duration(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds >= 120 else f"{seconds} s"
