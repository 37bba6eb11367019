"""Keeps the search index in step with the database, through one mechanism.

The index is derived data: documents are built from committed rows and written
by background tasks (the queue's consumer) through search.SearchIndex, whose
cross-process lock makes it the single writer.

How a change reaches the index: after every flush, `_write_outbox` looks at the
rows the flush wrote; for each one that feeds a search document (an asset, its
versions, pages and tags, ratings, reported uses) it inserts the asset's id into
`index_outbox` in the same transaction, so the outbox holds exactly what was
committed. After the commit the session enqueues one `drain_index_outbox`;
the drain indexes every asset waiting there in one index commit and deletes the
rows it read. A periodic drain picks up whatever a dead process left behind.
Services never call the index themselves. Views and downloads are too frequent
to index one by one: their usage counts are refreshed in batches
(portal/search/tasks.py, refresh_usage_in_index).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flask import Flask, current_app
from sqlalchemy import delete, event, func, insert, inspect, select

from portal.extensions import Session, after_commit, db
from portal.models import (
    Asset,
    AssetStatus,
    AssetTag,
    AssetVersion,
    IndexOutbox,
    Page,
    Processing,
    Rating,
    ReportedUse,
    UsageEvent,
    utcnow,
)
from portal.queue import enqueue, get_queue
from search.documents import AssetDocument, PageDocument
from search.index import SearchIndex

INDEXED_TEXT_LIMIT = 2_000_000


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    index = SearchIndex(str(app.config.get("INDEX_DIR") or settings.index_dir))
    app.extensions["collateral_index"] = index
    recreated = index.ensure()
    if recreated:
        # A missing, outdated or corrupt index was replaced by an empty one:
        # refill it from the database, the source of truth.
        with app.app_context():
            if db.inspect(db.engine).has_table("assets"):
                reindex_all()


def get_index() -> SearchIndex:
    return current_app.extensions["collateral_index"]


# Rows whose changes alter an asset's search documents (each names its asset),
# with the columns that matter when a row changes (None: any column). Processing
# progress, written twice a second, changes no document.
INDEXED_ROWS: dict[type, frozenset[str] | None] = {
    Asset: None, AssetTag: None, Page: None, Rating: None, ReportedUse: None,
    AssetVersion: frozenset({"processing"}),
}
DRAIN_BATCH = 1_000
DRAIN_PENDING = "collateral-index-drain-pending"  # a mark in the queue's storage


def _asset_id_of(row) -> int | None:
    return row.id if isinstance(row, Asset) else row.asset_id


def _changes_documents(row) -> bool:
    columns = INDEXED_ROWS[type(row)]
    state = inspect(row)
    changed = {attribute.key for attribute in state.attrs if attribute.history.has_changes()}
    return bool(changed) if columns is None else bool(changed & columns)


def _changed_asset_ids(session: Session) -> set[int]:
    changed = {_asset_id_of(row) for row in (*session.new, *session.deleted) if type(row) in INDEXED_ROWS}
    changed |= {_asset_id_of(row) for row in session.dirty
                if type(row) in INDEXED_ROWS and _changes_documents(row)}
    changed.discard(None)
    return changed


@event.listens_for(Session, "after_flush")
def _write_outbox(session: Session, _flush_context) -> None:
    mark_for_indexing(session, _changed_asset_ids(session))


def mark_for_indexing(session: Session, asset_ids: set[int]) -> None:
    """Put these assets in the outbox, in the session's transaction: for changes
    the flush does not see, such as bulk UPDATEs (slide lineage regrouping pages)."""
    if not asset_ids:
        return
    now = utcnow()
    session.connection().execute(insert(IndexOutbox), [{"asset_id": i, "created_at": now} for i in sorted(asset_ids)])
    after_commit(session, "index_outbox", request_drain)


def request_drain() -> None:
    """Enqueue a drain unless one is waiting already: a burst of ratings and
    uses makes one queued task and one index commit, not one each. The drain
    clears the mark before it reads the outbox, so a change committed while it
    runs gets a drain of its own; if a task is lost with its mark set, the
    periodic drain (every minute) clears the mark."""
    if get_queue().huey.put_if_empty(DRAIN_PENDING, "1"):
        enqueue("drain_index_outbox")


REBUILD_PENDING = "collateral-index-rebuild-pending"


def request_rebuild() -> None:
    """Have the index rebuilt from the database in the background, once: the
    mark stays until the rebuild task ends (portal/search/tasks.py)."""
    if get_queue().huey.put_if_empty(REBUILD_PENDING, "1"):
        enqueue("rebuild_index")


def rebuild_requested_index() -> None:
    try:
        reindex_all()
    finally:
        get_queue().huey.delete(REBUILD_PENDING)


def drain_outbox(limit: int = DRAIN_BATCH) -> int:
    """Index the assets waiting in the outbox (at most `limit` rows) in one index
    commit; returns how many rows it took. Rows are deleted by id, so a change
    committed meanwhile keeps its own row for the next drain."""
    get_queue().huey.delete(DRAIN_PENDING)
    rows = db.session.execute(select(IndexOutbox.id, IndexOutbox.asset_id).order_by(IndexOutbox.id).limit(limit)).all()
    if not rows:
        return 0
    index_assets(sorted({row.asset_id for row in rows}))
    db.session.execute(delete(IndexOutbox).where(IndexOutbox.id.in_([row.id for row in rows])))
    db.session.commit()
    return len(rows)


def outbox_size() -> int:
    return db.session.scalar(select(func.count()).select_from(IndexOutbox)) or 0


def _usage_counts(asset_ids: list[int]) -> dict[int, int]:
    events = db.session.execute(
        select(UsageEvent.asset_id, func.count()).where(UsageEvent.asset_id.in_(asset_ids))
        .group_by(UsageEvent.asset_id)
    ).all()
    reported = db.session.execute(
        select(ReportedUse.asset_id, func.count()).where(ReportedUse.asset_id.in_(asset_ids))
        .group_by(ReportedUse.asset_id)
    ).all()
    counts: dict[int, int] = {}
    for asset_id, count in [*events, *reported]:
        counts[asset_id] = counts.get(asset_id, 0) + count
    return counts


def _rating_averages(asset_ids: list[int]) -> dict[int, float]:
    rows = db.session.execute(
        select(Rating.asset_id, func.avg(Rating.stars)).where(Rating.asset_id.in_(asset_ids))
        .group_by(Rating.asset_id)
    ).all()
    return {asset_id: float(average) for asset_id, average in rows}


def index_status(asset: Asset, processing: str | None) -> str:
    """The status the index keeps: "published" only for what reps may see (apart from
    expiry, which the index checks by date), so reps' searches never find a draft or an
    item whose current file (its `processing`) is still processing or failed."""
    if asset.status == AssetStatus.PUBLISHED and processing != Processing.READY:
        return "unprocessed"
    return asset.status


def build_documents(assets: list[Asset]) -> list[tuple[AssetDocument, list[PageDocument]]]:
    """Index documents for these assets and the pages of their current versions."""
    ids = [a.id for a in assets]
    usage = _usage_counts(ids)
    averages = _rating_averages(ids)
    version_ids = [a.current_version_id for a in assets if a.current_version_id]
    versions = {row.id: row for row in db.session.execute(
        select(AssetVersion.id, AssetVersion.processing, AssetVersion.created_at)
        .where(AssetVersion.id.in_(version_ids)))}
    pages_by_version: dict[int, list[Page]] = {}
    if version_ids:
        for page in db.session.scalars(
            select(Page).where(Page.version_id.in_(version_ids)).order_by(Page.version_id, Page.number)
        ):
            pages_by_version.setdefault(page.version_id, []).append(page)

    documents = []
    for asset in assets:
        average = averages.get(asset.id)
        pages = pages_by_version.get(asset.current_version_id or -1, [])
        text_parts: list[str] = []
        size = 0
        for page in pages:
            for part in (page.title, page.text, page.notes):
                if part and size < INDEXED_TEXT_LIMIT:
                    text_parts.append(part)
                    size += len(part)
        owner = f"{asset.owner.name} {asset.owner.email}".strip()
        version = versions.get(asset.current_version_id or -1)
        status = index_status(asset, version.processing if version else None)
        asset_document = AssetDocument(
            asset_id=asset.id, title=asset.title, description=asset.description or "",
            tags=asset.tags, content_type=asset.content_type, product=asset.product,
            stage=asset.stage, region=asset.region, persona=asset.persona, owner=owner,
            text="\n".join(text_parts), status=status, expires_on=asset.expires_on,
            rating_average=average, usage_count=usage.get(asset.id, 0),
            updated_at=asset.updated_at,
        )
        page_documents = [
            PageDocument(
                page_id=page.id, asset_id=asset.id, number=page.number, title=page.title or "",
                text=page.text or "", notes=page.notes or "", asset_title=asset.title,
                content_type=asset.content_type, product=asset.product, stage=asset.stage,
                region=asset.region, persona=asset.persona, tags=asset.tags, status=status,
                expires_on=asset.expires_on, rating_average=average,
                usage_count=usage.get(asset.id, 0), updated_at=asset.updated_at, group_id=page.group_id,
                version_created=version.created_at if version else None,
            )
            for page in pages
        ]
        documents.append((asset_document, page_documents))
    return documents


def index_assets(asset_ids: list[int]) -> None:
    """Bring these assets (and their pages) up to date in the index; ids that
    no longer exist are removed."""
    assets = list(db.session.scalars(select(Asset).where(Asset.id.in_(asset_ids))))
    index = get_index()
    if assets:
        index.update_assets(build_documents(assets))
    for missing in set(asset_ids) - {a.id for a in assets}:
        index.delete_asset(missing)


def _batches(batch_size: int, after_id: int = 0) -> Iterator[list[tuple[AssetDocument, list[PageDocument]]]]:
    last_id = after_id
    while True:
        assets = list(db.session.scalars(
            select(Asset).where(Asset.id > last_id).order_by(Asset.id).limit(batch_size)
        ))
        if not assets:
            return
        last_id = assets[-1].id
        yield build_documents(assets)
        db.session.expunge_all()  # bounded memory: forget the rows of this batch


def _documents_of(asset_ids: list[int]) -> list[tuple[AssetDocument, list[PageDocument]]]:
    documents = []
    for start in range(0, len(asset_ids), DRAIN_BATCH):
        assets = list(db.session.scalars(select(Asset).where(Asset.id.in_(asset_ids[start:start + DRAIN_BATCH]))))
        documents += build_documents(assets)
        db.session.expunge_all()
    return documents


def reindex_all(on_progress: Callable[[int], None] | None = None, batch_size: int = 200,
                on_start: Callable[[int, int], None] | None = None, commit_every: int | None = None) -> int:
    """Rebuild the index from the database into a new generation, swapped in at
    the end; the live one keeps serving (and taking changes) until then. A
    rebuild cut off (the process killed) is resumed from its last commit (one
    every `commit_every` assets): on_start(done, total) says how many assets were
    already indexed. Returns the number of assets indexed."""
    total = db.session.scalar(select(func.count()).select_from(Asset)) or 0
    with get_index().start_rebuild(commit_every=commit_every) as rebuild:
        if on_start:
            on_start(rebuild.done, total)
        for batch in _batches(batch_size, after_id=rebuild.last_id):
            done = rebuild.add(batch)
            if on_progress:
                on_progress(done)
        rebuild.finish(_documents_of)
    return rebuild.done


def index_check() -> dict:
    expected = dict(db.session.execute(select(Asset.id, Asset.updated_at)).all())
    report = get_index().check(expected)
    return {"missing": sorted(report.missing), "stale": sorted(report.stale), "extra": sorted(report.extra)}
