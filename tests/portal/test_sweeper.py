"""Issue 13, items 3 and 5: the one sweeper picks up work cut off by a dead
process (or fails it with a reason once it was cut off too often), removes the
work directories and partial uploads dead processes left, and the health page
reports stuck work. (Killing real workers mid-job: tests/portal/test_queue.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from portal.extensions import db
from portal.models import AssetVersion, utcnow
from tests.assets.processes import is_gone

REPO = Path(__file__).resolve().parents[2]


def _backdate(version_id: int, *, started_seconds_ago: float | None, attempts: int, created_seconds_ago: float = 0):
    now = utcnow()
    db.session.execute(update(AssetVersion).where(AssetVersion.id == version_id).values(
        processing="pending", error=None, processing_attempts=attempts,
        created_at=now - timedelta(seconds=created_seconds_ago),
        processing_started_at=None if started_seconds_ago is None else now - timedelta(seconds=started_seconds_ago)))
    db.session.commit()
    db.session.expire_all()


@pytest.fixture
def temp_root(tmp_path, monkeypatch):
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def test_sweep_resumes_cut_off_processing_and_fails_a_file_cut_off_too_often(app, factories, temp_root):
    from portal.sweeper import sweep

    settings = app.config["SETTINGS"]
    deadline = settings.processing_deadline_seconds
    cut_off = factories.asset(title="Cut off", content=b"cut off mid job\n")
    never_ran = factories.asset(title="Task lost", content=b"task lost before it ran\n")
    killer = factories.asset(title="Kills its worker", content=b"kills every worker\n")
    running = factories.asset(title="Running", content=b"being processed right now\n")
    _backdate(cut_off.current_version_id, started_seconds_ago=deadline + 5, attempts=1, created_seconds_ago=deadline + 9)
    _backdate(never_ran.current_version_id, started_seconds_ago=None, attempts=0, created_seconds_ago=deadline + 5)
    _backdate(killer.current_version_id, started_seconds_ago=deadline + 5, attempts=settings.job_max_attempts,
              created_seconds_ago=deadline * 4)
    _backdate(running.current_version_id, started_seconds_ago=5, attempts=1, created_seconds_ago=deadline + 5)

    swept_at = utcnow()
    report = sweep()  # the queue runs tasks inline here: resumed versions are processed at once
    assert sorted(report.versions_resumed) == sorted([cut_off.current_version_id, never_ran.current_version_id])
    assert report.versions_failed == [killer.current_version_id]
    for asset, attempts in ((cut_off, 2), (never_ran, 1)):
        version = db.session.get(AssetVersion, asset.current_version_id)
        assert (version.processing, version.processing_attempts) == ("ready", attempts)
        assert version.processed_at >= swept_at
    version = db.session.get(AssetVersion, killer.current_version_id)
    assert version.processing == "failed"
    assert version.error.startswith(f"Processing was cut off {settings.job_max_attempts} times")
    # A version another worker holds a live lease on is left to it.
    version = db.session.get(AssetVersion, running.current_version_id)
    assert (version.processing, version.processing_attempts) == ("pending", 1)
    assert sweep().versions_resumed == []


def test_a_task_arriving_twice_processes_the_version_once(app, factories):
    from portal.library.processing import process_version

    asset = factories.asset(title="Twice", content=b"processed once\n")
    version_id = asset.current_version_id
    _backdate(version_id, started_seconds_ago=3, attempts=1)  # a live worker holds it
    process_version(version_id)
    db.session.expire_all()
    version = db.session.get(AssetVersion, version_id)
    assert (version.processing, version.processing_attempts) == ("pending", 1)


def test_health_reports_work_pending_past_its_deadline(app, client, auth, factories):
    admin = factories.user("admin")
    auth.login(admin)
    asset = factories.asset(title="Stuck", content=b"stuck\n")
    html = client.get("/admin/health").get_data(as_text=True)
    assert "stuck" not in html
    _backdate(asset.current_version_id, started_seconds_ago=app.config["SETTINGS"].processing_deadline_seconds + 1,
              attempts=1)
    html = client.get("/admin/health").get_data(as_text=True)
    row = html[html.index("<th>processing</th>"):].split("</tr>", 1)[0]
    assert "Problem" in row and "pending: 1" in row
    assert f"stuck: version {asset.current_version_id} pending for more than" in row


def _killed_mid_upload(files_dir: Path) -> Path:
    """A real process storing an upload, killed with SIGKILL halfway: returns its partial file."""
    code = ("import sys; from assets.storage import LocalStorage; "
            f"LocalStorage({str(files_dir)!r}).save('assets/killed/original.pdf', sys.stdin.buffer)")
    writer = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, cwd=REPO,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        writer.stdin.write(b"%PDF-1.7\n" + b"x" * (2 * 2**20))
        writer.stdin.flush()
        deadline = time.monotonic() + 30
        partial: list[Path] = []
        while not partial and time.monotonic() < deadline:
            partial = [p for p in (files_dir / "assets" / "killed").glob(".upload-*") if p.stat().st_size > 2**20]
            time.sleep(0.05)
        assert partial, "the upload never started writing"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdin.close()
    assert is_gone(writer.pid)
    return partial[0]


def test_sweep_removes_what_killed_processes_left(app, temp_root):
    from portal.sweeper import sweep, work_deadline_seconds

    settings = app.config["SETTINGS"]
    partial = _killed_mid_upload(settings.files_dir)
    assert partial.exists()  # nothing else removes it
    sweep()
    assert partial.exists()  # not yet older than the deadline: an upload may still be writing it

    # A work directory a killed job left, and one of a job still running.
    left = temp_root / "collateral-abc123"
    (left / "pages").mkdir(parents=True)
    (left / "pages" / "page-0001.png").write_bytes(b"png")
    deck_left = temp_root / "collateral-deck-xyz"
    deck_left.mkdir()
    (deck_left / "source-1.pptx").write_bytes(b"pptx")
    live = temp_root / "collateral-live"
    live.mkdir()
    unrelated = temp_root / "other-tool-dir"
    unrelated.mkdir()
    old = time.time() - work_deadline_seconds(settings) - 5
    for path in (partial, left, left / "pages", left / "pages" / "page-0001.png", deck_left,
                 deck_left / "source-1.pptx", unrelated):
        os.utime(path, (old, old))

    report = sweep()
    assert report.partial_uploads == 1 and not partial.exists()
    assert sorted(report.work_dirs) == sorted([str(left), str(deck_left)])
    assert not left.exists() and not deck_left.exists()
    assert live.exists() and unrelated.exists()


def test_sweep_command(runner, temp_root):
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Sweep: processing resumed 0, failed 0; deck builds resumed 0")
