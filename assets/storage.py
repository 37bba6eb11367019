"""Where files live: one Storage interface, a local directory or S3.

Uploads stream: bytes are hashed (SHA-256) and counted while they are copied,
never read whole into memory, and a file over the size limit leaves nothing
behind (an object already stored under the same key is kept as it was).
Keys are built from checked parts only, so no key can escape its directory.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
import unicodedata
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

CHUNK = 1024 * 1024
MB = 1024 * 1024
# A part is a plain file name: it cannot start with a dot, so "." and ".." never pass.
KEY_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


class StorageError(Exception):
    """A storage operation failed."""


class ObjectTooLarge(StorageError):
    def __init__(self, limit_bytes: int):
        super().__init__(f"The file is larger than the limit of {limit_bytes} bytes.")
        self.limit_bytes = limit_bytes


class ObjectNotFound(StorageError):
    pass


class InvalidKey(StorageError):
    pass


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str  # hex


def safe_key(*parts: str) -> str:
    """Join checked parts with '/'. Each part is a plain name of letters, digits,
    '.', '_' and '-' that does not start with a dot: no '..', no absolute paths,
    no separators, no control characters."""
    if not parts:
        raise InvalidKey("An object key needs at least one part.")
    for part in parts:
        if not isinstance(part, str) or KEY_PART.fullmatch(part) is None:
            raise InvalidKey(f"Not a safe object key part: {part!r}")
    return "/".join(parts)


def _check_key(key: str) -> str:
    if not isinstance(key, str):
        raise InvalidKey(f"Not an object key: {key!r}")
    safe_key(*key.split("/"))
    return key


class _HashingReader:
    """Wraps a stream: hashes and counts what is read, and raises ObjectTooLarge
    as soon as more than max_bytes have come through."""

    def __init__(self, stream: BinaryIO, max_bytes: int | None):
        self.stream = stream
        self.max_bytes = max_bytes
        self.size = 0
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        # Not seekable on purpose: boto3 then reads bounded chunks instead of
        # seeking around to find the size.
        return False

    def read(self, size: int | None = CHUNK) -> bytes:
        if size is None or size < 0:
            size = CHUNK  # only our own loops and boto3 read this; never pull a whole file
        data = self.stream.read(size)
        if data is None:  # a non-blocking raw stream with nothing ready
            data = b""
        self.size += len(data)
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise ObjectTooLarge(self.max_bytes)
        self.digest.update(data)
        return data

    def result(self, key: str) -> StoredObject:
        return StoredObject(key, self.size, self.digest.hexdigest())


def content_disposition(filename: str) -> str:
    """`attachment` with a plain ASCII fallback name and the exact UTF-8 name (RFC 6266)."""
    cleaned = "".join(ch for ch in filename if unicodedata.category(ch)[0] != "C")
    fallback = "".join(ch if " " <= ch < "\x7f" and ch not in '"\\' else "_"
                       for ch in unicodedata.normalize("NFKD", cleaned)
                       if not unicodedata.combining(ch)).strip() or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(cleaned or fallback, safe='')}"


class Storage(ABC):
    """The one interface the portal, the workers and the CLI use for files."""

    @abstractmethod
    def save(self, key: str, stream: BinaryIO, *, content_type: str | None = None,
             max_bytes: int | None = None) -> StoredObject:
        """Stream `stream` into `key`; raise ObjectTooLarge past max_bytes, storing nothing."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A readable binary stream the caller closes; ObjectNotFound if missing."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def size(self, key: str) -> int: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error."""

    def download_to(self, key: str, path: str) -> None:
        """Copy the object to a local file (workers need real files for LibreOffice and friends)."""
        target = Path(path)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}-")
        try:
            with self.open(key) as source, os.fdopen(handle, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def presigned_url(self, key: str, *, filename: str, content_type: str | None,
                      expires_seconds: int = 300) -> str | None:
        """A short-lived direct download link, or None when the web layer must stream the file."""
        return None

    def local_path(self, key: str) -> str | None:
        """The object's absolute path on this machine, when there is one."""
        return None

    @abstractmethod
    def check(self) -> str | None:
        """None when the store works, else a human reason (shown on the admin health page)."""

    def remove_abandoned_uploads(self, older_than_seconds: float) -> int:
        """Remove what uploads cut off by a dead process left (untouched for longer
        than `older_than_seconds`); returns how many were removed."""
        return 0


class LocalStorage(Storage):
    def __init__(self, root: str):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        path = (self.root / _check_key(key)).resolve()
        if self.root not in path.parents:  # a symlink inside the root could still point out
            raise InvalidKey(f"Key escapes the storage root: {key!r}")
        return path

    def save(self, key, stream, *, content_type=None, max_bytes=None) -> StoredObject:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        reader = _HashingReader(stream, max_bytes)
        # Same directory as the target, so os.replace is an atomic rename.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as target:
                while chunk := reader.read(CHUNK):
                    target.write(chunk)
                target.flush()
                os.fsync(target.fileno())
            os.replace(temporary, path)  # the object exists whole or not at all
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return reader.result(key)

    def open(self, key) -> BinaryIO:
        try:
            return open(self._path(key), "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None

    def exists(self, key) -> bool:
        return self._path(key).is_file()

    def size(self, key) -> int:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return path.stat().st_size

    def delete(self, key) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except IsADirectoryError:
            pass

    def local_path(self, key) -> str | None:
        return str(self._path(key))

    def remove_abandoned_uploads(self, older_than_seconds: float) -> int:
        """`.upload-*` files: an upload in progress writes to one and renames it when
        done, so one untouched for long belongs to a process that died."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for root, _dirs, files in os.walk(self.root):
            for name in files:
                if not name.startswith(".upload-"):
                    continue
                path = os.path.join(root, name)
                try:
                    if os.lstat(path).st_mtime < cutoff:
                        os.unlink(path)
                        removed += 1
                except FileNotFoundError:
                    continue
        return removed

    def check(self) -> str | None:
        if not self.root.is_dir():
            return f"The storage directory {self.root} does not exist."
        try:
            with tempfile.TemporaryFile(dir=self.root, prefix=".health-"):
                pass
        except OSError as error:
            return f"The storage directory {self.root} is not writable: {error.strerror or error}."
        return None


class S3Storage(Storage):
    """S3 or any S3 API (SeaweedFS, Garage, MinIO, R2) through boto3.

    Credentials and region come from the standard AWS_* variables (or any
    source boto3 knows). Path-style addressing and `when_required` checksums
    keep non-AWS servers happy."""

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, prefix: str = "",
                 region_name: str | None = None, multipart_threshold: int = 8 * MB,
                 multipart_chunksize: int = 8 * MB, client=None):
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.bucket = bucket
        prefix = prefix.strip("/")
        self.prefix = _check_key(prefix) if prefix else ""
        self.client = client or boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region_name or None,
            config=Config(
                signature_version="s3v4",  # presigned URLs too (boto3 may pick SigV2 for them)
                s3={"addressing_style": "path"},  # S3-compatible servers rarely do virtual hosts
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
            ),
        )
        self.endpoint_url = endpoint_url or self.client.meta.endpoint_url
        # One part in memory at a time (no threads): memory stays bounded per upload,
        # and an exception from the reader surfaces in the caller's thread.
        self.transfer = TransferConfig(multipart_threshold=multipart_threshold,
                                       multipart_chunksize=multipart_chunksize, use_threads=False,
                                       preferred_transfer_client="classic")

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r}, endpoint_url={self.endpoint_url!r}, prefix={self.prefix!r})"

    def _key(self, key: str) -> str:
        key = _check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    @staticmethod
    def _code(error) -> str:
        return str(error.response.get("Error", {}).get("Code", ""))

    def _missing(self, error) -> bool:
        return self._code(error) in ("404", "NoSuchKey", "NotFound")

    def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist yet (tests and first start)."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as error:
            if self._code(error) not in ("404", "NoSuchBucket", "NotFound"):
                raise StorageError(f"Cannot use bucket {self.bucket!r}: {error}") from error
        try:
            self.client.create_bucket(Bucket=self.bucket)
        except ClientError as error:
            if self._code(error) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise StorageError(f"Cannot create bucket {self.bucket!r}: {error}") from error

    def save(self, key, stream, *, content_type=None, max_bytes=None) -> StoredObject:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        full_key = self._key(key)
        reader = _HashingReader(stream, max_bytes)
        extra = {"ContentType": content_type} if content_type else {}
        try:
            # Below the threshold this is one PutObject; above it a multipart upload
            # whose parts are read from `reader` one chunk at a time.
            self.client.upload_fileobj(reader, self.bucket, full_key, ExtraArgs=extra,
                                       Config=self.transfer)
        except Exception as error:
            too_large = _find_cause(error, ObjectTooLarge)
            if too_large is not None or isinstance(error, (BotoCoreError, ClientError, Boto3Error)):
                # boto3 aborts its multipart upload on failure; make sure, since a
                # dangling upload keeps its parts (and their cost) forever.
                self._abort_uploads(full_key)
            if too_large is not None:
                raise too_large from None
            if isinstance(error, (BotoCoreError, ClientError, Boto3Error)):
                raise StorageError(f"Could not store the file: {error}") from error
            raise  # the upload stream itself failed (client went away): the caller's problem
        return reader.result(key)

    def _abort_uploads(self, full_key: str) -> None:
        # Keys are unique per asset version, so an unfinished upload of this exact key is ours.
        try:
            listing = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=full_key)
            for upload in listing.get("Uploads", []):
                if upload["Key"] == full_key:
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=full_key,
                                                       UploadId=upload["UploadId"])
        except Exception:  # best effort: the original error matters more
            pass

    def _call(self, key: str, operation, **params):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return operation(Bucket=self.bucket, Key=self._key(key), **params)
        except ClientError as error:
            if self._missing(error):
                raise ObjectNotFound(key) from None
            raise StorageError(f"S3 error for {key!r}: {error}") from error
        except BotoCoreError as error:
            raise StorageError(f"S3 error for {key!r}: {error}") from error

    def open(self, key) -> BinaryIO:
        return self._call(key, self.client.get_object)["Body"]

    def exists(self, key) -> bool:
        try:
            self.size(key)
        except ObjectNotFound:
            return False
        return True

    def size(self, key) -> int:
        return self._call(key, self.client.head_object)["ContentLength"]

    def delete(self, key) -> None:
        try:
            self._call(key, self.client.delete_object)
        except ObjectNotFound:
            pass

    # A multipart upload's age is when it began, not when it last moved: a long upload
    # is given at least this long before it counts as abandoned.
    MULTIPART_GRACE_SECONDS = 6 * 3600

    def remove_abandoned_uploads(self, older_than_seconds: float) -> int:
        """Abort unfinished multipart uploads (their parts cost storage until then)."""
        from datetime import UTC, datetime, timedelta

        cutoff = datetime.now(UTC) - timedelta(seconds=max(older_than_seconds, self.MULTIPART_GRACE_SECONDS))
        removed = 0
        params = {"Bucket": self.bucket, **({"Prefix": self.prefix + "/"} if self.prefix else {})}
        while True:
            listing = self.client.list_multipart_uploads(**params)
            for upload in listing.get("Uploads", []):
                if upload["Initiated"] < cutoff:
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                       UploadId=upload["UploadId"])
                    removed += 1
            if not listing.get("IsTruncated"):
                return removed
            params.update(KeyMarker=listing.get("NextKeyMarker"), UploadIdMarker=listing.get("NextUploadIdMarker"))

    def download_to(self, key, path) -> None:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            # download_file writes a temporary file next to `path` and renames it.
            self.client.download_file(self.bucket, self._key(key), str(path), Config=self.transfer)
        except ClientError as error:
            if self._missing(error):
                raise ObjectNotFound(key) from None
            raise StorageError(f"S3 error for {key!r}: {error}") from error
        except (BotoCoreError, Boto3Error) as error:
            raise StorageError(f"S3 error for {key!r}: {error}") from error

    def presigned_url(self, key, *, filename, content_type, expires_seconds=300) -> str | None:
        params = {"Bucket": self.bucket, "Key": self._key(key),
                  "ResponseContentDisposition": content_disposition(filename)}
        if content_type:
            params["ResponseContentType"] = content_type
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_seconds)

    def check(self) -> str | None:
        from botocore.exceptions import (
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
        )

        where = f"bucket {self.bucket!r} at {self.endpoint_url}"
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            code = self._code(error)
            if code in ("404", "NoSuchBucket", "NotFound"):
                return f"The S3 {where} does not exist."
            if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                return f"Access to the S3 {where} is denied; check the credentials ({code})."
            return f"The S3 {where} answered with an error: {error}"
        except NoCredentialsError:
            return "No S3 credentials are configured (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)."
        except EndpointConnectionError as error:
            return f"Cannot connect to the S3 endpoint for {where}: {error}"
        except Exception as error:  # anything else is still a reason for the health page
            return f"The S3 {where} is not reachable: {error}"
        return None


def _find_cause(error: BaseException, kind: type[BaseException]):
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, kind):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def storage_from_settings(backend: str, *, local_root: str, s3_bucket: str | None,
                          s3_endpoint_url: str | None, s3_prefix: str) -> Storage:
    """The configured store. Builds clients only; nothing is contacted here."""
    if backend == "s3":
        if not s3_bucket:
            raise StorageError("The S3 storage backend needs a bucket (S3_BUCKET).")
        return S3Storage(s3_bucket, endpoint_url=s3_endpoint_url or None, prefix=s3_prefix or "")
    if backend == "local":
        return LocalStorage(local_root)
    raise StorageError(f"Unknown storage backend {backend!r}; use 'local' or 's3'.")
