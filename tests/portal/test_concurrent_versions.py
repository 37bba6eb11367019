"""Issue 13, item 5: new versions of one asset uploaded at the same moment are
numbered one at a time (no 500, no duplicate number), and storage holds exactly
the files the versions point at. Real threads against a real HTTP server, on
SQLite and (with TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db
from portal.models import AssetVersion

PARALLEL = 10


def _multipart(filename: str, content: bytes, **fields: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 "Content-Type: text/plain\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _post(url: str, token: str, filename: str, content: bytes, **fields: str) -> tuple[int, dict]:
    body, content_type = _multipart(filename, content, **fields)
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _stored_files(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def test_parallel_versions_are_numbered_one_at_a_time(settings):
    # Processing is queued, not run: the uploads themselves race.
    app = create_app(replace(settings, queue_mode="embedded"), TESTING=True, AUTO_MIGRATE=False,
                     START_EMBEDDED_WORKER=False, QUEUE_NAME=f"versions-{uuid.uuid4().hex[:8]}")
    with app.app_context():
        from portal.admin.services import save_user

        save_user("racer@example.com", role="marketer", password="correct-horse-battery")
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}/api/v1"
    try:
        request = urllib.request.Request(f"{base}/tokens", method="POST", headers={"Content-Type": "application/json"},
                                         data=json.dumps({"email": "racer@example.com",
                                                          "password": "correct-horse-battery"}).encode())
        with urllib.request.urlopen(request, timeout=30) as response:
            token = json.loads(response.read())["token"]
        status, asset = _post(f"{base}/assets", token, "v1.txt", b"version one\n", title="Price sheet")
        assert status == 201, asset

        start = threading.Barrier(PARALLEL)
        results: list[tuple[int, dict]] = [None] * PARALLEL  # type: ignore[list-item]

        def upload(n: int) -> None:
            content = f"version from thread {n}\n".encode() * 2000
            start.wait()
            results[n] = _post(f"{base}/assets/{asset['id']}/versions", token, f"v-{n}.txt", content)

        threads = [threading.Thread(target=upload, args=(n,)) for n in range(PARALLEL)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=180)
    finally:
        server.shutdown()
        thread.join(timeout=10)

    assert [status for status, _ in results] == [201] * PARALLEL, [body for _, body in results]
    with app.app_context():
        versions = list(db.session.scalars(select(AssetVersion).where(AssetVersion.asset_id == asset["id"])
                                           .order_by(AssetVersion.number)))
        assert [v.number for v in versions] == list(range(1, PARALLEL + 2))
        assert sorted(v.filename for v in versions[1:]) == sorted(f"v-{n}.txt" for n in range(PARALLEL))
        assert versions[0].asset.current_version_id in {v.id for v in versions}
        keys = {v.storage_key for v in versions}
        db.session.remove()
        db.engine.dispose()
    files_dir = settings.files_dir
    assert _stored_files(files_dir) == keys  # no orphan, no partial upload
    assert not [name for name in os.listdir(files_dir) if name.startswith(".upload-")]
