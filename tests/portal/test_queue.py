"""The real task queues: the embedded one (SQLite, consumed inside the web
process) and the production one (Redis, consumed by `flask --app portal worker`)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from portal import create_app
from portal.extensions import db
from portal.models import AssetVersion


def _wait_processed(app, version_id: int, timeout: float = 90) -> AssetVersion:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            version = db.session.get(AssetVersion, version_id)
            if version.processing != "pending":
                db.session.expunge(version)
                return version
        time.sleep(0.3)
    raise AssertionError(f"version {version_id} was not processed within {timeout} s")


def _upload(client, headers, title: str, tmp_path: Path) -> int:
    from assets.sample_files import make_pdf

    path = make_pdf(str(tmp_path / "queue.pdf"),
                    [{"title": title, "lines": ["Queue integration test page", "pricing for hospitals"]}])
    response = client.post("/api/v1/assets", headers=headers, content_type="multipart/form-data",
                           data={"title": title, "content_type": "datasheet",
                                 "file": (io.BytesIO(Path(path).read_bytes()), "queue.pdf")})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _token(client, factories_app, role="marketer") -> dict[str, str]:
    from portal.admin.services import save_user

    email = f"queue-{uuid.uuid4().hex[:8]}@example.com"
    with factories_app.app_context():
        save_user(email, role=role, password="correct-horse-battery")
    token = client.post("/api/v1/tokens", json={"email": email, "password": "correct-horse-battery"}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_embedded_queue_processes_without_a_separate_worker(settings, tmp_path):
    settings = replace(settings, queue_mode="embedded")
    app = create_app(settings, TESTING=True, AUTO_MIGRATE=False, START_EMBEDDED_WORKER=True)
    client = app.test_client()
    # The web server's request threads start the consumer, never the main thread.
    first_request = threading.Thread(target=lambda: app.test_client().get("/login"))
    first_request.start()
    first_request.join()
    assert app.extensions["collateral_queue"]._consumer_started
    headers = _token(client, app)
    asset_id = _upload(client, headers, "Embedded queue sheet", tmp_path)
    with app.app_context():
        version_id = db.session.scalar(db.select(AssetVersion.id).where(AssetVersion.asset_id == asset_id))
    version = _wait_processed(app, version_id)
    assert version.processing == "ready" and version.page_count == 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = client.get("/api/v1/search?q=hospitals", headers=headers).get_json()
        if found["total"]:
            break
        time.sleep(0.3)
    assert [item["id"] for item in found["items"]] == [asset_id]


def test_redis_queue_with_worker_process(settings, tmp_path, redis_url):
    settings = replace(settings, queue_mode="redis", redis_url=redis_url)
    queue_name = f"collateral-test-{uuid.uuid4().hex[:8]}"
    app = create_app(settings, TESTING=True, AUTO_MIGRATE=False, START_EMBEDDED_WORKER=False, QUEUE_NAME=queue_name)
    client = app.test_client()
    headers = _token(client, app)
    asset_id = _upload(client, headers, "Redis queue sheet", tmp_path)
    with app.app_context():
        version_id = db.session.scalar(db.select(AssetVersion.id).where(AssetVersion.asset_id == asset_id))
        assert db.session.get(AssetVersion, version_id).processing == "pending"  # nothing ran in the request

    env = {**os.environ, "PORTAL_DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url,
           "REDIS_URL": redis_url, "SECRET_KEY": "test-secret", "PORTAL_QUEUE_NAME": queue_name}
    flask = Path(sys.executable).with_name("flask")
    log = open(tmp_path / "worker.log", "w+")
    worker = subprocess.Popen([str(flask), "--app", "portal", "worker", "--workers", "1"], env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        version = _wait_processed(app, version_id)
        assert version.processing == "ready", version.error
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = client.get("/api/v1/search?q=hospitals", headers=headers).get_json()
            if found["total"]:
                break
            time.sleep(0.3)
        assert [item["id"] for item in found["items"]] == [asset_id]
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.seek(0)
        output = log.read()
        log.close()
    assert "Traceback" not in output, output
    if worker.returncode not in (0, -15):
        pytest.fail(f"worker exited with {worker.returncode}: {output[-2000:]}")
