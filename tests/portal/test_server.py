"""`flask --app portal serve`: the embedded default on gunicorn (threaded workers),
with the embedded queue consumer running in the server before any request."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assets.sample_files import make_pdf
from portal import create_app
from portal.config import load_settings
from tests.support.servers import stop_server


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
        output = stop_server(server, log)
    assert "Using worker: gthread" in output, output[-3000:]
    assert "development server" not in output
    assert "Traceback" not in output, output[-3000:]


def test_gunicorn_conf_answers_while_slow_clients_hold_connections(tmp_path):
    """README's production command: gunicorn with portal/gunicorn_conf.py (gthread workers).
    Two clients that send half a request and then nothing hold a thread each, not the
    worker: with one worker process a normal request is still answered. (Sync workers,
    the old command, give each such client a whole worker until it times out.)"""
    environment = {**os.environ, "PORTAL_DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "gunicorn-test",
                   "WEB_CONCURRENCY": "1"}
    port = _free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = open(tmp_path / "gunicorn.log", "w+")
    server = subprocess.Popen([str(gunicorn), "-c", "python:portal.gunicorn_conf", "-b", f"127.0.0.1:{port}",
                               "portal:create_app()"], env=environment, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    slow: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 90
        while True:  # up: the app answers
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as response:
                    assert response.status == 200
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start")
                time.sleep(0.3)
        for n in range(2):
            connection = socket.create_connection(("127.0.0.1", port), timeout=10)
            connection.sendall(f"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-Client: {n}\r\n".encode())
            slow.append(connection)
        time.sleep(1)  # the server has read what they sent and waits for the rest
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=60) as response:
            assert response.status == 200
            assert b"Sign in" in response.read()
        for connection in slow:  # still open, still waiting: nothing was answered to them
            connection.setblocking(False)
            try:
                assert connection.recv(1, socket.MSG_PEEK) != b"", "the server closed a slow connection"
                raise AssertionError("the server answered half a request")
            except BlockingIOError:
                pass
    finally:
        for connection in slow:
            connection.close()
        output = stop_server(server, log)
    assert "Using worker: gthread" in output, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
