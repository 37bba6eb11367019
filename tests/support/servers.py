"""Stopping a server the tests started in a process group of its own (gunicorn and its workers)."""

from __future__ import annotations

import os
import signal
import subprocess
from typing import IO


def stop_server(server: subprocess.Popen, log: IO[str]) -> str:
    """SIGTERM to the whole group (a graceful shutdown, SIGKILL after 30 s); returns the
    server's log and closes it."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    log.seek(0)
    output = log.read()
    log.close()
    return output
