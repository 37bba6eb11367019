"""Children die with their parent: a worker killed with SIGKILL leaves no child
(python -m assets.processing / assets.deck_builder) and no program they started
(LibreOffice) behind. Real processes, killed for real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.assets.processes import is_gone

REPO = Path(__file__).resolve().parents[2]

# A parent that starts a child the way the workers do, prints the pids, and waits.
PARENT = r"""
import os, subprocess, sys, time
from assets.children import preexec
kind = sys.argv[1]
if kind == "python-child":  # a child that asks the kernel itself (as the processing child does)
    code = "import os, sys, time; from assets.children import die_with_parent; die_with_parent(int(sys.argv[1])); time.sleep(120)"
    child = subprocess.Popen([sys.executable, "-c", code, str(os.getpid())], start_new_session=True)
else:  # a program started with preexec (as LibreOffice is), in its own process group
    child = subprocess.Popen(["sleep", "120"], start_new_session=True, preexec_fn=preexec(512))
print(child.pid, flush=True)
time.sleep(120)
"""


def _parent_with_child(kind: str) -> tuple[subprocess.Popen, int]:
    parent = subprocess.Popen([sys.executable, "-c", PARENT, kind], stdout=subprocess.PIPE, text=True, cwd=REPO,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    child = int(parent.stdout.readline())
    time.sleep(0.5)  # the child is set up (prctl done) and sleeping
    return parent, child


def _gone_within(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if is_gone(pid):
            return True
        time.sleep(0.05)
    return False


def test_a_child_dies_with_its_killed_parent():
    parent, child = _parent_with_child("python-child")
    try:
        assert not is_gone(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert _gone_within(child)
    finally:
        if not is_gone(child):
            os.kill(child, signal.SIGKILL)


def test_a_program_started_with_preexec_dies_with_its_killed_parent():
    parent, child = _parent_with_child("program")
    try:
        assert not is_gone(child) and os.getpgid(child) == child  # its own process group
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert _gone_within(child)
    finally:
        if not is_gone(child):
            os.kill(child, signal.SIGKILL)


def test_a_child_whose_parent_is_already_gone_does_not_run_on(tmp_path):
    # The parent dies before the child asks the kernel: the pid check catches it.
    code = ("import sys, time; from assets.children import die_with_parent; "
            "die_with_parent(int(sys.argv[1])); open(sys.argv[2], 'w').write('ran on'); time.sleep(5)")
    marker = tmp_path / "ran-on"
    child = subprocess.Popen([sys.executable, "-c", code, "1", str(marker)], cwd=REPO,
                             env={**os.environ, "PYTHONPATH": str(REPO)})  # pid 1 is not its parent
    assert child.wait(timeout=30) == -signal.SIGKILL
    assert not marker.exists()
