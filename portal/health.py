"""System health: database, storage, search index, task queue."""

from __future__ import annotations

from sqlalchemy import func, select, text

from portal.extensions import db
from portal.models import Asset, AssetVersion
from portal.queue import get_queue
from portal.search.indexing import get_index
from portal.storage import get_storage


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
                           "detail": f"{counts.get('assets', 0)} of {assets} assets, {counts.get('pages', 0)} pages"}
    except Exception as error:
        checks["index"] = {"ok": False, "detail": str(error)}
    try:
        pending = get_queue().huey.pending_count()
        checks["queue"] = {"ok": True, "detail": f"{pending} task(s) waiting"}
    except Exception as error:
        checks["queue"] = {"ok": False, "detail": str(error)}
    processing = dict(db.session.execute(
        select(AssetVersion.processing, func.count()).group_by(AssetVersion.processing)
    ).all())
    checks["processing"] = {"ok": True, "detail": ", ".join(f"{k}: {v}" for k, v in sorted(processing.items())) or "no files"}
    return checks
