"""One behaviour suite for every storage backend: a local directory, S3 on moto,
and S3 on a real SeaweedFS server (tests/s3_server.py)."""

from __future__ import annotations

import hashlib
import io
import os
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from moto import mock_aws

from assets.storage import (
    InvalidKey,
    LocalStorage,
    ObjectNotFound,
    ObjectTooLarge,
    S3Storage,
    Storage,
    StorageError,
    StoredObject,
    safe_key,
    storage_from_settings,
)

MB = 1024 * 1024
PART = 5 * MB  # the smallest part S3 allows; keeps the multipart tests quick


class ChunkOnlyStream(io.RawIOBase):
    """Generates `size` bytes and refuses any read that is unbounded or large,
    proving the storage never pulls the whole file into memory."""

    def __init__(self, size: int, chunk_limit: int = 8 * MB):
        self.total = size
        self.remaining = size
        self.chunk_limit = chunk_limit
        self.digest = hashlib.sha256()
        self.largest_read = 0
        self._pattern = bytes(range(251)) * (chunk_limit // 251 + 2)
        self._offset = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or size > self.chunk_limit or (size >= self.total > MB):
            raise AssertionError(f"read({size}) would load the whole file")
        self.largest_read = max(self.largest_read, size)
        size = min(size, self.remaining)
        start = self._offset % 251
        data = self._pattern[start:start + size]
        self._offset += size
        self.remaining -= size
        self.digest.update(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


@pytest.fixture
def moto_s3(monkeypatch):
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="collateral-test")
        yield "collateral-test"


@pytest.fixture(params=["local", "moto", "seaweedfs"])
def storage(request, tmp_path) -> Storage:
    if request.param == "local":
        return LocalStorage(str(tmp_path / "files"))
    if request.param == "moto":
        bucket = request.getfixturevalue("moto_s3")
        return S3Storage(bucket, prefix="tenant-a", region_name="us-east-1",
                         multipart_threshold=PART, multipart_chunksize=PART)
    endpoint = request.getfixturevalue("seaweedfs_s3")["endpoint_url"]
    bucket = request.getfixturevalue("s3_bucket_on_seaweedfs")
    return S3Storage(bucket, endpoint_url=endpoint, prefix="tenant-a",
                     multipart_threshold=PART, multipart_chunksize=PART)


def pending_uploads(storage: S3Storage) -> list:
    return storage.client.list_multipart_uploads(Bucket=storage.bucket).get("Uploads", [])


def files_under(root) -> list:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_round_trip_with_hash(storage, tmp_path):
    data = b"Per-bed pricing for hospitals\n" * 100
    key = safe_key("assets", "a1", "deck.pptx")
    stored = storage.save(key, io.BytesIO(data), content_type="text/plain")
    assert stored == StoredObject(key, len(data), hashlib.sha256(data).hexdigest())
    with storage.open(key) as handle:
        assert handle.read() == data
    assert storage.exists(key) and storage.size(key) == len(data)
    target = tmp_path / "copy.bin"
    storage.download_to(key, str(target))
    assert target.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_empty_file(storage):
    stored = storage.save("assets/e/empty.txt", io.BytesIO(b""))
    assert stored.size == 0 and stored.sha256 == hashlib.sha256(b"").hexdigest()
    assert storage.exists("assets/e/empty.txt") and storage.size("assets/e/empty.txt") == 0


def test_save_replaces_an_object(storage):
    storage.save("assets/r/file.txt", io.BytesIO(b"first version"))
    storage.save("assets/r/file.txt", io.BytesIO(b"second"))
    with storage.open("assets/r/file.txt") as handle:
        assert handle.read() == b"second"


def test_big_upload_streams_in_bounded_chunks(storage, tmp_path):
    stream = ChunkOnlyStream(50 * MB)
    stored = storage.save("assets/big/file.bin", stream, max_bytes=50 * MB)
    assert stored.size == 50 * MB and stored.sha256 == stream.digest.hexdigest()
    assert 0 < stream.largest_read <= 8 * MB
    assert storage.size("assets/big/file.bin") == 50 * MB
    if isinstance(storage, S3Storage):
        head = storage.client.head_object(Bucket=storage.bucket, Key=storage._key("assets/big/file.bin"))
        assert head["ETag"].strip('"').endswith("-10"), f"expected 10 parts, got ETag {head['ETag']}"
        assert pending_uploads(storage) == []
    target = tmp_path / "big.bin"
    storage.download_to("assets/big/file.bin", str(target))
    digest = hashlib.sha256()
    with open(target, "rb") as handle:
        while block := handle.read(MB):
            digest.update(block)
    assert digest.hexdigest() == stored.sha256


@pytest.mark.parametrize("size,limit", [(12 * MB, 7 * MB), (300, 299)], ids=["multipart", "small"])
def test_over_limit_leaves_nothing(storage, size, limit):
    with pytest.raises(ObjectTooLarge) as caught:
        storage.save("assets/huge/file.bin", ChunkOnlyStream(size), max_bytes=limit)
    assert caught.value.limit_bytes == limit
    assert not storage.exists("assets/huge/file.bin")
    if isinstance(storage, S3Storage):
        assert pending_uploads(storage) == []
        listed = storage.client.list_objects_v2(Bucket=storage.bucket).get("Contents", [])
        assert listed == []
    else:
        assert files_under(storage.root) == []


def test_exactly_the_limit_is_accepted(storage):
    stored = storage.save("assets/edge/file.bin", io.BytesIO(b"x" * 1000), max_bytes=1000)
    assert stored.size == 1000


def test_over_limit_keeps_the_previous_object(storage):
    storage.save("assets/keep/file.txt", io.BytesIO(b"the good version"))
    with pytest.raises(ObjectTooLarge):
        storage.save("assets/keep/file.txt", io.BytesIO(b"y" * 5000), max_bytes=100)
    with storage.open("assets/keep/file.txt") as handle:
        assert handle.read() == b"the good version"


def test_missing_objects(storage, tmp_path):
    with pytest.raises(ObjectNotFound):
        storage.open("assets/none/x.bin")
    with pytest.raises(ObjectNotFound):
        storage.size("assets/none/x.bin")
    with pytest.raises(ObjectNotFound):
        storage.download_to("assets/none/x.bin", str(tmp_path / "x.bin"))
    assert not storage.exists("assets/none/x.bin")
    assert not (tmp_path / "x.bin").exists()


def test_delete_is_idempotent(storage):
    storage.save("assets/d/x.bin", io.BytesIO(b"x"))
    storage.delete("assets/d/x.bin")
    storage.delete("assets/d/x.bin")
    storage.delete("assets/never/existed.bin")
    assert not storage.exists("assets/d/x.bin")


def test_backends_refuse_unsafe_keys(storage):
    for key in ("../outside", "/abs", "a//b", "a/./b", "a/../b", "a\\b", "", "a/b\n"):
        with pytest.raises(InvalidKey):
            storage.save(key, io.BytesIO(b"x"))
        with pytest.raises(InvalidKey):
            storage.open(key)


def test_health_check(storage):
    assert storage.check() is None


@pytest.mark.parametrize("parts", [
    ("..", "etc"), ("/etc/passwd",), ("a/../b",), ("a", "..", "b"), (".",), ("a\x00b",), ("a\\b",),
    ("",), ("a", ""), (), (".hidden",), ("a b",), ("name\n",), ("tab\there",), ("ü",), ("C:",),
])
def test_safe_key_refuses_unsafe_parts(parts):
    with pytest.raises(InvalidKey):
        safe_key(*parts)


def test_safe_key_joins_plain_parts():
    assert safe_key("assets", "3f2a", "original.pptx") == "assets/3f2a/original.pptx"
    assert safe_key("thumbs", "v_1", "page-10.png") == "thumbs/v_1/page-10.png"


def test_local_serves_paths_not_urls(tmp_path):
    storage = LocalStorage(str(tmp_path / "files"))
    storage.save("assets/x/y.pdf", io.BytesIO(b"%PDF"))
    assert storage.presigned_url("assets/x/y.pdf", filename="y.pdf", content_type="application/pdf") is None
    path = storage.local_path("assets/x/y.pdf")
    assert os.path.isabs(path) and path.startswith(str((tmp_path / "files").resolve()) + os.sep)
    with open(path, "rb") as handle:
        assert handle.read() == b"%PDF"


def test_local_refuses_a_symlink_out_of_the_root(tmp_path):
    storage = LocalStorage(str(tmp_path / "files"))
    (tmp_path / "outside").mkdir()
    (tmp_path / "files" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(InvalidKey):
        storage.save("link/evil.txt", io.BytesIO(b"x"))
    assert list((tmp_path / "outside").iterdir()) == []


def test_local_check_reports_a_missing_directory(tmp_path):
    storage = LocalStorage(str(tmp_path / "files"))
    (tmp_path / "files").rmdir()
    assert "does not exist" in storage.check()


def test_moto_presigned_url_carries_download_headers(moto_s3):
    storage = S3Storage(moto_s3, region_name="us-east-1", prefix="p")
    url = storage.presigned_url("assets/p/file.pdf", filename="Q3 deck.pdf", content_type="application/pdf",
                                expires_seconds=120)
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path.endswith(f"/{moto_s3}/p/assets/p/file.pdf")  # path-style
    assert query["X-Amz-Expires"] == ["120"] and "X-Amz-Signature" in query
    assert query["response-content-type"] == ["application/pdf"]
    assert query["response-content-disposition"][0].startswith("attachment;")


def test_presigned_download_on_seaweedfs(seaweedfs_s3, s3_bucket_on_seaweedfs):
    storage = S3Storage(s3_bucket_on_seaweedfs, endpoint_url=seaweedfs_s3["endpoint_url"])
    storage.save("assets/p/file.pdf", io.BytesIO(b"%PDF-1.4 presigned"), content_type="application/pdf")
    url = storage.presigned_url("assets/p/file.pdf", filename="Pricing 2027 ü.pdf",
                                content_type="application/pdf", expires_seconds=60)
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"%PDF-1.4 presigned"
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert 'filename="Pricing 2027 u.pdf"' in disposition
        assert "filename*=UTF-8''Pricing%202027%20%C3%BC.pdf" in disposition
        assert response.headers["Content-Type"] == "application/pdf"
    tampered = url.replace("file.pdf", "other.pdf", 1)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(tampered, timeout=10)
    assert refused.value.code == 403


def test_ensure_bucket_creates_it_once(seaweedfs_s3, s3_bucket_on_seaweedfs):
    storage = S3Storage(f"{s3_bucket_on_seaweedfs}-new", endpoint_url=seaweedfs_s3["endpoint_url"])
    assert "does not exist" in storage.check()
    storage.ensure_bucket()
    storage.ensure_bucket()
    assert storage.check() is None
    storage.client.delete_bucket(Bucket=storage.bucket)


def test_check_reports_a_missing_bucket_on_seaweedfs(seaweedfs_s3, s3_bucket_on_seaweedfs):
    storage = S3Storage("no-such-bucket-here", endpoint_url=seaweedfs_s3["endpoint_url"])
    reason = storage.check()
    assert "no-such-bucket-here" in reason and "does not exist" in reason


def test_check_reports_a_missing_bucket_on_moto(moto_s3):
    reason = S3Storage("another-bucket", region_name="us-east-1").check()
    assert "another-bucket" in reason and "does not exist" in reason


def test_check_reports_an_unreachable_endpoint(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    storage = S3Storage("b", endpoint_url="http://127.0.0.1:9", region_name="us-east-1")
    reason = storage.check()
    assert reason is not None and "127.0.0.1:9" in reason
    with pytest.raises(StorageError):
        storage.save("assets/a/b.txt", io.BytesIO(b"x"))


def test_factory(tmp_path, moto_s3):
    local = storage_from_settings("local", local_root=str(tmp_path / "f"), s3_bucket=None,
                                  s3_endpoint_url=None, s3_prefix="")
    assert isinstance(local, LocalStorage) and (tmp_path / "f").is_dir()
    remote = storage_from_settings("s3", local_root=str(tmp_path), s3_bucket=moto_s3,
                                   s3_endpoint_url=None, s3_prefix="/collateral/")
    assert isinstance(remote, S3Storage) and remote.prefix == "collateral"
    assert remote.client.meta.config.s3["addressing_style"] == "path"
    assert remote.client.meta.config.request_checksum_calculation == "when_required"
    assert remote.client.meta.config.response_checksum_validation == "when_required"
    with pytest.raises(StorageError):
        storage_from_settings("s3", local_root=str(tmp_path), s3_bucket=None, s3_endpoint_url=None,
                              s3_prefix="")
    with pytest.raises(StorageError):
        storage_from_settings("ftp", local_root=str(tmp_path), s3_bucket=None, s3_endpoint_url=None,
                              s3_prefix="")
    with pytest.raises(InvalidKey):
        storage_from_settings("s3", local_root=str(tmp_path), s3_bucket="b", s3_endpoint_url=None,
                              s3_prefix="../x")


def test_abandoned_multipart_uploads_are_aborted_on_seaweedfs(seaweedfs_s3, s3_bucket_on_seaweedfs):
    storage = S3Storage(s3_bucket_on_seaweedfs, endpoint_url=seaweedfs_s3["endpoint_url"], prefix="sweep")
    started = storage.client.create_multipart_upload(Bucket=storage.bucket, Key="sweep/assets/x/original.pdf")
    storage.client.create_multipart_upload(Bucket=storage.bucket, Key="elsewhere/original.pdf")  # not ours
    try:
        assert storage.remove_abandoned_uploads(0) == 0  # younger than the grace a long upload gets
        storage.MULTIPART_GRACE_SECONDS = 0
        time.sleep(1.1)
        assert storage.remove_abandoned_uploads(0) == 1
        left = storage.client.list_multipart_uploads(Bucket=storage.bucket).get("Uploads", [])
        assert started["UploadId"] not in {u["UploadId"] for u in left}
        assert "elsewhere/original.pdf" in {u["Key"] for u in left}
    finally:
        for upload in storage.client.list_multipart_uploads(Bucket=storage.bucket).get("Uploads", []):
            storage.client.abort_multipart_upload(Bucket=storage.bucket, Key=upload["Key"],
                                                  UploadId=upload["UploadId"])


def test_local_partial_uploads_are_removed_when_old(tmp_path):
    storage = LocalStorage(str(tmp_path / "files"))
    storage.save("assets/a/original.pdf", io.BytesIO(b"%PDF whole"))
    directory = tmp_path / "files" / "assets" / "b"
    directory.mkdir(parents=True)
    old, fresh = directory / ".upload-old", directory / ".upload-fresh"
    old.write_bytes(b"%PDF half")
    fresh.write_bytes(b"%PDF being written")
    os.utime(old, (time.time() - 600, time.time() - 600))
    assert storage.remove_abandoned_uploads(300) == 1
    assert not old.exists() and fresh.exists() and storage.exists("assets/a/original.pdf")
