"""`flask --app portal reindex` killed with SIGKILL part way: the live index keeps
serving, and the next run resumes where the dead one stopped, with what changed
meanwhile, then swaps the new generation in."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update

from portal.extensions import db
from portal.models import Asset, AssetVersion, Page
from portal.search.indexing import get_index, index_assets, reindex_all
from search.generations import PROGRESS, REBUILD

ASSETS = 150


def _load_library(owner_id: int) -> None:
    now = db.func.now()
    db.session.execute(insert(Asset), [
        dict(id=n, title=f"Deck {n} first", description="", content_type="deck", status="published",
             owner_id=owner_id) for n in range(1, ASSETS + 1)])
    db.session.execute(insert(AssetVersion), [
        dict(id=n, asset_id=n, number=1, filename=f"d{n}.pptx", storage_key=f"k{n}", size=1, sha256=f"{n:064x}",
             mime="application/pdf", kind="pdf", processing="ready", page_count=1) for n in range(1, ASSETS + 1)])
    db.session.execute(update(Asset).values(current_version_id=Asset.id, updated_at=now, created_at=now))
    db.session.execute(insert(Page), [
        dict(id=n, version_id=n, asset_id=n, number=1, title=f"Slide of deck {n}", text="pricing for hospitals")
        for n in range(1, ASSETS + 1)])
    db.session.commit()


def _reindex(settings, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PORTAL_DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url,
           "SECRET_KEY": "test-secret", "PORTAL_QUEUE": "immediate"}
    flask = Path(sys.executable).with_name("flask")
    return subprocess.Popen([str(flask), "--app", "portal", "reindex", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def _progress(index) -> dict | None:
    name = index.generations.rebuilding()
    try:
        with open(os.path.join(index.generations.path(name), PROGRESS)) as handle:
            return json.load(handle)
    except (TypeError, OSError, ValueError):
        return None


def test_a_killed_reindex_leaves_the_live_index_serving_and_the_next_run_resumes(app, settings, factories):
    owner = factories.user("marketer")
    _load_library(owner.id)
    index = get_index()
    assert reindex_all() == ASSETS  # the live generation: every title says "first"
    live = index.generations.current()
    db.session.execute(update(Asset).values(title=Asset.title.op("||")(" second")))
    db.session.commit()

    process = _reindex(settings, "--batch-size", "1", "--commit-every", "2")
    try:
        deadline = time.monotonic() + 120
        while (progress := _progress(index)) is None or progress["done"] < 20:  # committed
            assert process.poll() is None, process.stdout.read()
            if time.monotonic() > deadline:
                pytest.fail(f"the rebuild did not commit 20 assets (progress: {progress})")
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL
    killed_at = _progress(index)["done"]
    assert 20 <= killed_at < ASSETS

    # Until the swap, searches get the live generation, whole.
    assert index.generations.current() == live
    assert index.search_assets("first", include_hidden=True).total == ASSETS
    assert index.search_assets("second", include_hidden=True).total == 0
    # Changes keep reaching the live generation meanwhile (and are noted for the rebuild).
    asset = db.session.get(Asset, 3)
    asset.title = "Renamed while the rebuild was dead"
    db.session.commit()
    assert index.search_assets("renamed", include_hidden=True).total == 1
    db.session.get(Asset, 140).status = "retired"
    db.session.commit()
    assert index.search_assets('"deck 140"').total == 0
    db.session.execute(delete(Asset).where(Asset.id == 141))  # gone from the database
    db.session.commit()
    index_assets([141])  # what the drain does for it
    assert index.search_assets('"deck 141"', include_hidden=True).total == 0

    resumed = _reindex(settings, "--batch-size", "25")
    output, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, output
    assert f"Resuming a rebuild that was cut off: {killed_at:,} of {ASSETS - 1:,} assets already indexed" in output
    assert f"Indexing assets: {ASSETS - 1} of {ASSETS - 1} assets (100%), done" in output
    assert f"Indexed {ASSETS - 1} assets." in output or f"Indexed {ASSETS} assets." in output  # 141 if indexed first

    assert index.generations.current() != live
    assert index.generations.rebuilding() is None and not os.path.exists(os.path.join(index.directory, REBUILD))
    assert [entry for entry in os.listdir(index.directory) if entry.startswith("gen-")] == [
        index.generations.current()]
    assert index.search_assets("second", include_hidden=True).total == ASSETS - 2  # 3 renamed, 141 deleted
    assert index.search_assets("first", include_hidden=True).total == ASSETS - 2
    assert index.search_assets("renamed", include_hidden=True).total == 1
    assert index.search_assets('"deck 140"').total == 0 and index.search_assets('"deck 140"', include_hidden=True).total
    assert index.search_pages('"deck 141"', include_hidden=True).total == 0
    assert index.doc_counts() == {"assets": ASSETS - 1, "pages": ASSETS - 1}
    assert db.session.scalar(select(db.func.count()).select_from(Asset)) == ASSETS - 1


def test_reindex_progress_reports_this_runs_pace_and_what_is_left(monkeypatch):
    import click

    from portal.cli import _Progress

    lines = []
    monkeypatch.setattr(click, "echo", lines.append)
    clock = iter([0.0, 10.0, 20.0, 20.5, 40.0])
    progress = _Progress(1_000, 400, "Indexing assets", "assets", every=10.0)  # 400 done by a run that died
    progress._clock = lambda: next(clock)
    progress._started = progress._last = progress._clock()
    progress.update(100)  # t=10: 100 in 10 s, 500 left
    progress.update(100)  # t=20
    progress.update(50)  # t=20.5: too soon for a line
    progress.update(350)  # t=40: finished
    assert lines == [
        "Indexing assets: 500 of 1,000 assets (50%), 10.0 assets/s, ETA 0 min 50 s",
        "Indexing assets: 600 of 1,000 assets (60%), 10.0 assets/s, ETA 0 min 40 s",
        "Indexing assets: 1,000 of 1,000 assets (100%), done",
    ]
