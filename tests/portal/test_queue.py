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
from datetime import timedelta
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


# --- a process killed mid-job (issue 13, item 3) ------------------------------------------------------

PROCESSING_TIMEOUT = 15  # seconds; the deadline after which the sweeper takes a job for cut off is twice that


def _blocking_office(tmp_path: Path) -> Path:
    """A soffice for the worker: the first call starts a real LibreOffice that never
    finishes (it listens instead of converting), so the job is held mid-way; later
    calls convert as usual."""
    from tests.tooling import require_executable

    real = require_executable("soffice", "apt-get install -y libreoffice-impress-nogui")
    marker = tmp_path / "office-held"
    script = tmp_path / "soffice"
    script.write_text(
        "#!/bin/sh\n"
        f"if mkdir {marker} 2>/dev/null; then\n"
        f"  exec {real} \"$1\" --headless --invisible --nologo --norestore --nolockcheck "
        "--accept='pipe,name=collateral-held-$$;urp;'\n"
        "fi\n"
        f"exec {real} \"$@\"\n")
    script.chmod(0o755)
    return script


def _job_environment(settings, tmp_path: Path, **extra: str) -> dict[str, str]:
    work_tmp = tmp_path / "tmp"
    work_tmp.mkdir(exist_ok=True)
    return {**os.environ, "PORTAL_DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url,
            "SECRET_KEY": "test-secret", "PROCESSING_TIMEOUT_SECONDS": str(PROCESSING_TIMEOUT),
            "TMPDIR": str(work_tmp), "COLLATERAL_SOFFICE": str(_blocking_office(tmp_path)),
            "COLLATERAL_OFFICE_PROFILES": str(tmp_path / "profiles"), **extra}


def _upload_pptx(app, tmp_path: Path) -> int:
    """Store a real deck through the use case (the request only enqueues); the version id."""
    from assets.sample_files import make_pptx
    from portal.admin.services import save_user
    from portal.library.services import create_asset

    with app.app_context():
        owner, _ = save_user(f"deck-{uuid.uuid4().hex[:6]}@example.com", role="marketer",
                             password="correct-horse-battery")
        path = make_pptx(str(tmp_path / "kickoff.pptx"),
                         [{"title": f"Kickoff slide {n}", "bullets": ["hospital pricing"]} for n in range(1, 4)])
        asset = create_asset(owner, io.BytesIO(Path(path).read_bytes()), "kickoff.pptx", {"title": "Kickoff"},
                             app.config["SETTINGS"].max_upload_bytes).asset
        version_id = asset.current_version_id
        assert db.session.get(AssetVersion, version_id).processing == "pending"
        db.session.remove()
    return version_id


def _office_under(pid: int, timeout: float = 90) -> list:
    """Once LibreOffice (soffice.bin) runs under `pid`: every process below `pid`."""
    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            below = psutil.Process(pid).children(recursive=True)
        except psutil.NoSuchProcess:
            break
        if any(p.name() == "soffice.bin" for p in below if p.is_running()):
            return below
        time.sleep(0.05)
    raise AssertionError("the job never reached LibreOffice")


def _office_processes(profiles: Path) -> list[int]:
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if any(str(profiles) in part for part in process.info["cmdline"] or ()) \
                    and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process.pid)
        except psutil.NoSuchProcess:
            continue
    return found


def _work_dirs(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "tmp").glob("collateral-*"))


def _wait_gone(pids: list[int], timeout: float = 30) -> list[int]:
    from tests.assets.processes import is_gone

    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if not is_gone(pid)]
        time.sleep(0.1)
    return alive


def _stop(process: subprocess.Popen, log) -> str:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
    log.seek(0)
    output = log.read()
    log.close()
    return output


def _killed_mid_job_then_resumed(app, tmp_path: Path, version_id: int, start) -> AssetVersion:
    """Start a consumer (start(n) -> Popen), kill it with SIGKILL while the job is in
    LibreOffice, check nothing of it lives on, start another after the deadline and
    return the version once processed."""
    from portal.models import utcnow

    deadline = app.config["SETTINGS"].processing_deadline_seconds
    first, first_log = start(1)
    try:
        below = _office_under(first.pid)
        assert _work_dirs(tmp_path), "the job has a work directory"
        os.killpg(first.pid, 9)  # the consumer's process group: not the job's children, in their own sessions
        first.wait()
    finally:
        _stop(first, first_log)
    # Its processing child and LibreOffice (soffice, soffice.bin) die with it.
    assert _wait_gone([p.pid for p in below]) == []
    assert _wait_gone(_office_processes(tmp_path / "profiles")) == []
    with app.app_context():
        version = db.session.get(AssetVersion, version_id)
        assert (version.processing, version.processing_attempts) == ("pending", 1)  # cut off
        started = version.processing_started_at
        db.session.remove()
    left = _work_dirs(tmp_path)
    assert left, "the killed job's work directory is still there"
    # Past the deadline the job counts as cut off; the next consumer's start-up sweep takes it up.
    while utcnow() < started + timedelta(seconds=deadline + 1):
        time.sleep(0.5)
    for path in left:
        # The directory's age is what its job last wrote: wait until that is past the deadline too.
        from assets.workdirs import last_touched

        while time.time() < last_touched(str(path)) + deadline + 1:
            time.sleep(0.5)

    second, second_log = start(2)
    try:
        version = _wait_processed(app, version_id, timeout=180)
        # The killed job's directory was swept; the new job removes its own as it ends.
        until = time.monotonic() + 30
        while _work_dirs(tmp_path) and time.monotonic() < until:
            time.sleep(0.1)
        assert _work_dirs(tmp_path) == []
    finally:
        output = _stop(second, second_log)
    assert "Traceback" not in output, output[-3000:]
    assert "processing resumed 1" in output and "work directories removed 1" in output
    return version


def test_worker_killed_mid_job_the_work_is_picked_up_again(settings, tmp_path, redis_url):
    settings = replace(settings, queue_mode="redis", redis_url=redis_url, processing_timeout_seconds=PROCESSING_TIMEOUT)
    queue_name = f"collateral-test-{uuid.uuid4().hex[:8]}"
    app = create_app(settings, TESTING=True, AUTO_MIGRATE=False, START_EMBEDDED_WORKER=False, QUEUE_NAME=queue_name)
    version_id = _upload_pptx(app, tmp_path)
    env = _job_environment(settings, tmp_path, REDIS_URL=redis_url, PORTAL_QUEUE_NAME=queue_name)
    flask = Path(sys.executable).with_name("flask")

    def start(n: int):
        log = open(tmp_path / f"worker-{n}.log", "w+")
        return subprocess.Popen([str(flask), "--app", "portal", "worker", "--workers", "2"], env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True), log

    version = _killed_mid_job_then_resumed(app, tmp_path, version_id, start)
    assert version.processing == "ready", version.error
    assert version.processing_attempts == 2 and version.page_count == 3


def test_web_process_killed_mid_job_on_the_embedded_queue(settings, tmp_path):
    from tests.portal.test_server import _free_port

    settings = replace(settings, queue_mode="embedded", processing_timeout_seconds=PROCESSING_TIMEOUT)
    app = create_app(settings, TESTING=True, AUTO_MIGRATE=False, START_EMBEDDED_WORKER=False)
    version_id = _upload_pptx(app, tmp_path)  # queued in the data dir's queue.db; the server consumes it
    env = _job_environment(settings, tmp_path, PORTAL_QUEUE="embedded")
    flask = Path(sys.executable).with_name("flask")

    def start(n: int):
        log = open(tmp_path / f"serve-{n}.log", "w+")
        return subprocess.Popen([str(flask), "--app", "portal", "serve", "--port", str(_free_port())], env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True), log

    version = _killed_mid_job_then_resumed(app, tmp_path, version_id, start)
    assert version.processing == "ready", version.error
    assert version.processing_attempts == 2 and version.page_count == 3
