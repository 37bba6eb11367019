"""`flask --app portal serve`: the embedded default on gunicorn (threaded workers),
with the embedded queue consumer running in the server before any request."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from assets.sample_files import make_pdf
from portal import create_app
from portal.config import load_settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_runs_gunicorn_and_processes_queued_work_without_a_request(tmp_path):
    data_dir = tmp_path / "data"
    environment = {"PORTAL_DATA_DIR": str(data_dir), "SECRET_KEY": "serve-test"}
    settings = load_settings(environment)
    assert settings.queue_mode == "embedded"
    app = create_app(settings, START_EMBEDDED_WORKER=False)  # enqueue only; the server consumes
    with app.app_context():
        from portal.admin.services import save_user
        from portal.extensions import db
        from portal.library.services import create_asset
        from portal.models import AssetVersion

        owner, _ = save_user("owner@example.com", role="marketer", password="correct-horse-battery")
        pdf = Path(make_pdf(str(tmp_path / "sheet.pdf"), [{"title": "Queued", "lines": ["queued work"]}]))
        asset = create_asset(owner, io.BytesIO(pdf.read_bytes()), "sheet.pdf", {"title": "Queued"},
                             settings.max_upload_bytes).asset
        version_id = asset.current_version_id
        assert db.session.get(AssetVersion, version_id).processing == "pending"
        db.session.remove()
        db.engine.dispose()

    port = _free_port()
    flask = Path(sys.executable).with_name("flask")
    log = open(tmp_path / "server.log", "w+")
    server = subprocess.Popen([str(flask), "--app", "portal", "serve", "--port", str(port)],
                              env={**os.environ, **environment}, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        with app.app_context():
            from portal.extensions import db
            from portal.models import AssetVersion

            state = "pending"
            deadline = time.monotonic() + 120
            while state == "pending" and time.monotonic() < deadline and server.poll() is None:
                time.sleep(0.5)
                db.session.expire_all()
                state = db.session.get(AssetVersion, version_id).processing
            db.session.remove()
            db.engine.dispose()
        assert state == "ready", "the server's embedded consumer did not process the queued upload"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as response:
            assert response.status == 200
            assert response.headers["Server"].startswith("gunicorn")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.seek(0)
        output = log.read()
        log.close()
    assert "Using worker: gthread" in output, output[-3000:]
    assert "development server" not in output
    assert "Traceback" not in output, output[-3000:]
