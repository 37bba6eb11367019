"""A real Redis server for the queue tests, started on a free loopback port.

A pytest plugin (registered from tests/conftest.py), the Redis twin of
tests/s3_server.py: `redis-server` (Debian package `redis-server`) runs with
no persistence and its working directory in a temporary folder, and is
stopped when the session ends. Nothing depends on a Redis this machine
happens to run; set TEST_REDIS_URL to use a given server instead.

Fixture:
- `redis_url` (session): a `redis://127.0.0.1:PORT/0` URL of a server that answers PING.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.tooling import missing

START_TIMEOUT = 20.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    given = os.environ.get("TEST_REDIS_URL", "").strip()
    if given:
        yield given
        return
    executable = shutil.which("redis-server")
    if executable is None:
        missing("the executable 'redis-server'", "apt-get install -y redis-server")
    workdir = tmp_path_factory.mktemp("redis")
    port = _free_port()
    log = open(workdir / "redis.log", "w+")
    server = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir), "--daemonize", "no"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers_ping(port):
            if server.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"redis-server did not start on port {port}: {log.read()[-2000:]}", pytrace=False)
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
