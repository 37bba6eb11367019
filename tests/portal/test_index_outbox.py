"""The index follows the database through one mechanism: the index outbox.

A change to anything a search document is built from writes an outbox row in
its own transaction; after the commit a drain task indexes it. Here the queue
is the real embedded (SQLite) queue with no consumer running, so what waits
in the outbox and in the queue can be seen before the drain runs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.library import services as library
from portal.models import AssetVersion, IndexOutbox
from portal.queue import get_queue
from portal.search import indexing
from portal.search.tasks import drain_index_outbox_periodic
from tests.conftest import run_queued


@pytest.fixture
def app(embedded_app):
    return embedded_app


def _outbox() -> list[int]:
    return list(db.session.scalars(select(IndexOutbox.asset_id).order_by(IndexOutbox.id)))


def _found(client, headers, query: str) -> list[int]:
    return [item["id"] for item in client.get(f"/api/v1/search?q={query}", headers=headers).get_json()["items"]]


def test_a_change_is_indexed_through_the_outbox_after_its_commit(app, client, factories, auth):
    asset = factories.asset(title="Quarterly brief")
    run_queued()  # the upload: processing, then its pages through the outbox
    headers = auth.token(factories.user("marketer"))
    assert _found(client, headers, "zanzibar") == []

    library.update_metadata(asset, {"title": "Zanzibar rollout brief"})
    assert _outbox() == [asset.id]  # written in the change's own transaction
    assert _found(client, headers, "zanzibar") == []  # not yet: the drain has not run
    assert run_queued() == ["drain_index_outbox"]
    assert _outbox() == []
    assert _found(client, headers, "zanzibar") == [asset.id]


def test_rolled_back_changes_leave_nothing_in_the_outbox(app, factories):
    asset = factories.asset(title="Draft")
    run_queued()
    asset.title = "Never committed"
    db.session.flush()
    assert _outbox() == [asset.id]
    db.session.rollback()
    assert _outbox() == []
    assert get_queue().huey.pending_count() == 0


def test_processing_progress_does_not_touch_the_index(app, factories):
    asset = factories.asset(title="Progress")
    run_queued()
    version = db.session.get(AssetVersion, asset.current_version_id)
    version.progress_done, version.progress_total = 1, 3
    db.session.commit()
    assert _outbox() == []
    version.processing = "failed"
    db.session.commit()
    assert _outbox() == [asset.id]


def test_the_periodic_drain_picks_up_what_a_dead_process_left(app, client, factories, auth):
    asset = factories.asset(title="Orphan")
    run_queued()
    library.update_metadata(asset, {"title": "Walrus orphan"})
    get_queue().huey.storage.flush_queue()  # the task is lost; its mark stays set
    assert _outbox() == [asset.id]
    library.update_metadata(asset, {"description": "still waiting"})
    assert get_queue().huey.pending_count() == 0  # its mark is still set: no second drain queued
    drain_index_outbox_periodic()
    assert _outbox() == []
    assert _found(client, auth.token(factories.user("marketer")), "walrus") == [asset.id]
    library.update_metadata(asset, {"description": "after the sweep"})
    assert run_queued() == ["drain_index_outbox"]  # the periodic drain cleared the mark


def test_many_changes_are_indexed_in_one_drain(app, factories, monkeypatch):
    assets = [factories.asset(title=f"Batch {n}") for n in range(5)]
    run_queued()
    for asset in assets:
        library.update_metadata(asset, {"tags": "batch"})
    library.update_metadata(assets[0], {"tags": "batch, again"})
    calls = []
    real = indexing.index_assets
    monkeypatch.setattr(indexing, "index_assets", lambda ids: calls.append(ids) or real(ids))
    assert run_queued() == ["drain_index_outbox"]  # one task for six commits
    assert calls == [sorted(a.id for a in assets)]  # and one index commit
    library.update_metadata(assets[1], {"tags": "later"})
    assert run_queued() == ["drain_index_outbox"]  # the next change gets a drain of its own
    assert calls[-1] == [assets[1].id]
