"""Content-addressed file storage: a file is kept once, under its SHA-256, in a local folder or an S3 bucket.

``STORAGE_URL`` chooses the backend: unset (the embedded default) is the folder ``STORAGE_DIR``;
``s3://bucket/prefix`` is S3-compatible object storage (endpoint ``S3_ENDPOINT``, keys from the usual AWS
environment), so that every web node and every Celery worker sees the same files. Everything written goes
through :func:`store` / :func:`store_stream`; downloads stream from the backend in chunks (:func:`send`), and
large files are spooled to a temporary file before upload, never held whole in memory.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import IO, BinaryIO, Protocol
from urllib.parse import quote, urlparse

from flask import Response, current_app, request

CHUNK = 256 * 1024
SPOOL_IN_MEMORY = 1024 * 1024  # larger uploads and archives go to a temporary file before being stored


class StorageError(RuntimeError):
    """The storage backend could not be reached or refused an operation."""


class Backend(Protocol):
    def exists(self, key: str) -> bool: ...
    def put(self, key: str, source: IO[bytes]) -> None: ...
    def open(self, key: str) -> BinaryIO: ...
    def size(self, key: str) -> int: ...
    def check(self) -> None: ...


class LocalBackend:
    """A folder on this machine: the embedded default (one process or one machine)."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def put(self, key: str, source: IO[bytes]) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent)
        with os.fdopen(fd, "wb") as handle:
            shutil.copyfileobj(source, handle, CHUNK)
        os.replace(tmp, target)  # atomic: a reader never sees half a file

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size

    def check(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise StorageError(f"{self.root} is not writable")


class S3Backend:
    """An S3-compatible bucket (AWS, MinIO, SeaweedFS…): shared by every node."""

    def __init__(self, bucket: str, prefix: str, endpoint: str | None, region: str | None) -> None:
        import boto3  # imported only when configured
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint or None,
            region_name=region or "us-east-1",
            config=Config(retries={"max_attempts": 3}, connect_timeout=5, read_timeout=30, signature_version="s3v4"),
        )

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def put(self, key: str, source: IO[bytes]) -> None:
        self.client.upload_fileobj(source, self.bucket, self._key(key))  # multipart for large files: streamed

    def open(self, key: str) -> BinaryIO:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except self.client.exceptions.NoSuchKey as error:
            raise FileNotFoundError(key) from error

    def size(self, key: str) -> int:
        return self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"]

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as error:  # noqa: BLE001  any failure means "not reachable" to /readyz
            raise StorageError(f"bucket {self.bucket}: {error}") from error


def make_backend(config: dict) -> Backend:
    url = config.get("STORAGE_URL") or ""
    if not url or url.startswith("file://"):
        return LocalBackend(url.removeprefix("file://") or config["STORAGE_DIR"])
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"PINGXUAN_STORAGE_URL must be s3://bucket/prefix or file:///folder, not {url!r}")
    return S3Backend(parsed.netloc, parsed.path, config.get("S3_ENDPOINT"), config.get("S3_REGION"))


def backend() -> Backend:
    """The application's backend, made once per application (boto3 clients are thread-safe)."""
    found = current_app.extensions.get("pingxuan_storage")
    if found is None:
        found = current_app.extensions["pingxuan_storage"] = make_backend(current_app.config)
    return found


def key_for(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 digest")
    return f"{sha256[:2]}/{sha256}"


def path_for(sha256: str) -> Path:
    """The file's path with the local backend (tests and tools that look at the folder)."""
    return Path(current_app.config["STORAGE_DIR"]) / key_for(sha256)


def store(data: bytes) -> str:
    """Store ``data`` and return its SHA-256; storing the same bytes twice is a no-op."""
    digest = hashlib.sha256(data).hexdigest()
    key = key_for(digest)
    if not backend().exists(key):
        backend().put(key, io.BytesIO(data))
    return digest


def spooled() -> IO[bytes]:
    """A scratch file to write something large into before :func:`store_stream`: memory first, then disk."""
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)


def store_stream(source: IO[bytes]) -> tuple[str, int]:
    """Store what ``source`` holds from its start, read in chunks; return its SHA-256 and size."""
    source.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    sha256 = digest.hexdigest()
    key = key_for(sha256)
    if not backend().exists(key):
        source.seek(0)
        backend().put(key, source)
    return sha256, size


def read(sha256: str) -> bytes:
    with backend().open(key_for(sha256)) as handle:
        return handle.read()


def chunks(sha256: str) -> Iterator[bytes]:
    """The file in chunks; opened now, so the iterator runs after the request context is gone (streaming)."""
    return _drain(backend().open(key_for(sha256)))


def _drain(handle: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := handle.read(CHUNK):
            yield chunk
    finally:
        handle.close()


def send(sha256: str, mimetype: str, download_name: str | None = None, as_attachment: bool = True) -> Response:
    """A response that streams the stored file in chunks, with its SHA-256 as a strong ETag."""
    if request.if_none_match.contains(sha256):
        response = Response(status=304)
        response.set_etag(sha256)
        return response
    response = Response(chunks(sha256), mimetype=mimetype, direct_passthrough=True)
    response.content_length = backend().size(key_for(sha256))
    response.set_etag(sha256)
    if download_name:
        simple = unicodedata.normalize("NFKD", download_name).encode("ascii", "ignore").decode("ascii")
        names = {"filename": simple or "download"}
        if simple != download_name:
            names["filename*"] = "UTF-8''" + quote(download_name, safe="!#$&+^`|~")
        response.headers.set("Content-Disposition", "attachment" if as_attachment else "inline", **names)
    return response


def check() -> None:
    """Raise :class:`StorageError` when the backend cannot be reached (for ``/readyz``)."""
    backend().check()
