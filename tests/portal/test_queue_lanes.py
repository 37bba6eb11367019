"""Slow work and quick work have separate lanes (issue 13, item 11): while a slow-lane
job holds the slow lane's worker busy, a change is still indexed at once, on the
embedded queue (SQLite, the consumers gunicorn's post_worker_init starts) and on Redis
(`flask --app portal worker`). With one consumer for everything the index drain would
wait behind the held job and these tests would time out."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

import tests.support.held_lane  # noqa: F401  (registers hold_slow_lane before the apps are made)
from assets.sample_files import make_pdf
from portal import create_app
from portal.extensions import db
from portal.models import AssetVersion
from portal.queue import REGISTRY, SLOW, enqueue, get_queue

WAIT_SECONDS = 90  # generous: the machine may be busy; nothing here compares times


def _wait_for(condition, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the worker exited ({process.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {WAIT_SECONDS} s")
        time.sleep(0.1)


def _upload(app, tmp_path: Path) -> tuple[int, int]:
    """A real PDF through the use case: processing goes to the slow lane, the index drain to the quick one."""
    from portal.admin.services import save_user
    from portal.library.services import create_asset

    pdf = Path(make_pdf(str(tmp_path / "lanes.pdf"), [{"title": "Lanes", "lines": ["separate lanes"]}]))
    owner, _ = save_user(f"lanes-{uuid.uuid4().hex[:6]}@example.com", role="marketer",
                         password="correct-horse-battery")
    asset = create_asset(owner, io.BytesIO(pdf.read_bytes()), "lanes.pdf", {"title": "Separate lanes"},
                         app.config["SETTINGS"].max_upload_bytes).asset
    return asset.id, asset.current_version_id


def _processing(version_id: int) -> str:
    db.session.expire_all()
    return db.session.get(AssetVersion, version_id).processing


def _check_drain_passes_held_job(app, hold: Path, tmp_path: Path, worker: subprocess.Popen | None = None) -> None:
    from portal.search.indexing import get_index, outbox_size

    enqueue("hold_slow_lane", str(hold))
    _wait_for(lambda: (hold / "started").exists(), "the slow lane's job starting", worker)
    asset_id, version_id = _upload(app, tmp_path)

    def indexed() -> bool:
        db.session.expire_all()
        return outbox_size() == 0 and get_index().doc_counts().get("assets", 0) == 1

    _wait_for(indexed, "the index drain, while the slow lane is held", worker)
    # The slow lane really was busy the whole time: the held job still runs, and the
    # upload's processing (queued behind it on the same lane) has not started.
    assert not (hold / "done").exists()
    assert _processing(version_id) == "pending"

    (hold / "release").touch()
    _wait_for(lambda: _processing(version_id) != "pending", "processing after the slow lane was released", worker)
    assert _processing(version_id) == "ready"


def test_lanes_of_the_tasks(app):
    slow = {name for name, definition in REGISTRY.items() if definition.lane == SLOW}
    assert {"process_version", "build_deck", "rebuild_index", "rollup_recent_usage"} <= slow
    assert not {"drain_index_outbox", "drain_index_outbox_periodic", "refresh_usage_in_index", "sweep"} & slow


def test_embedded_queue_indexes_while_processing_is_held(settings, tmp_path):
    app = create_app(replace(settings, queue_mode="embedded"), TESTING=True, AUTO_MIGRATE=False,
                     START_EMBEDDED_WORKER=False)
    hold = tmp_path / "hold"
    hold.mkdir()
    with app.app_context():
        queue = get_queue()
        queue.start_embedded_consumer()  # what gunicorn's post_worker_init runs
        try:
            _check_drain_passes_held_job(app, hold, tmp_path)
        finally:
            (hold / "release").touch()
            queue.stop_embedded_consumer()
            db.session.remove()
            db.engine.dispose()


def test_redis_worker_indexes_while_processing_is_held(settings, tmp_path, redis_url):
    queue_name = f"collateral-lanes-{uuid.uuid4().hex[:8]}"
    settings = replace(settings, queue_mode="redis", redis_url=redis_url)
    app = create_app(settings, TESTING=True, AUTO_MIGRATE=False, START_EMBEDDED_WORKER=False, QUEUE_NAME=queue_name)
    hold = tmp_path / "hold"
    hold.mkdir()
    env = {**os.environ, "PORTAL_DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url,
           "REDIS_URL": redis_url, "SECRET_KEY": "test-secret", "PORTAL_QUEUE_NAME": queue_name}
    log = open(tmp_path / "worker.log", "w+")
    worker = subprocess.Popen([str(Path(sys.executable).with_name("flask")), "--app", "tests.support.held_lane",
                               "worker", "--workers", "1"], env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        with app.app_context():
            _check_drain_passes_held_job(app, hold, tmp_path, worker)
            db.session.remove()
            db.engine.dispose()
    finally:
        (hold / "release").touch()
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.seek(0)
        output = log.read()
        log.close()
    assert "quick lane with 1 thread(s), slow lane with 1 thread(s)" in output, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    if worker.returncode not in (0, -15):
        pytest.fail(f"worker exited with {worker.returncode}: {output[-2000:]}")
