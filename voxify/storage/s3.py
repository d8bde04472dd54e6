"""Blob store backed by an S3-compatible object store (AWS S3, MinIO, ...)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from voxify.storage.base import (
    DEFAULT_CHUNK_SIZE,
    BlobNotFound,
    validate_chunk_size,
    validate_key,
)

# get_object reports "NoSuchKey"; head_object has no body, so it only carries the HTTP status.
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})

# Bounded timeouts so the health endpoint's ping fails fast instead of hanging on a dead host.
_CLIENT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=60,
    retries={"max_attempts": 3, "mode": "standard"},
)


def _is_not_found(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in _NOT_FOUND_CODES


class S3BlobStore:
    """Stores each blob as the object `prefix/key` in one bucket."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        client: Any = None,
    ) -> None:
        if not bucket:
            raise ValueError("S3 bucket name must not be empty")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            # Same rules as keys, so prefix/key is always a well-formed object name.
            validate_key(self.prefix)
        if client is None:
            client = boto3.client(
                "s3", endpoint_url=endpoint_url, region_name=region, config=_CLIENT_CONFIG
            )
        self.client: Any = client

    def _object_key(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Upload `data` as the object for `key`."""
        self.client.put_object(
            Bucket=self.bucket, Key=self._object_key(key), Body=data, ContentType=content_type
        )

    def _get_object(self, key: str) -> dict[str, Any]:
        try:
            response: dict[str, Any] = self.client.get_object(
                Bucket=self.bucket, Key=self._object_key(key)
            )
        except ClientError as exc:
            if _is_not_found(exc):
                raise BlobNotFound(key) from exc
            raise
        return response

    def get(self, key: str) -> bytes:
        """Download the whole object."""
        body = self._get_object(key)["Body"]
        try:
            data: bytes = body.read()
        finally:
            body.close()
        return data

    def iter_chunks(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """Issue the GET now (so a missing key fails at call time) and stream the body lazily."""
        validate_chunk_size(chunk_size)
        body = self._get_object(key)["Body"]
        return _stream_body(body, chunk_size)

    def delete(self, key: str) -> None:
        """Delete the object; S3 already treats deleting a missing key as success."""
        self.client.delete_object(Bucket=self.bucket, Key=self._object_key(key))

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            response: dict[str, Any] = self.client.head_object(
                Bucket=self.bucket, Key=self._object_key(key)
            )
        except ClientError as exc:
            if _is_not_found(exc):
                return None
            raise
        return response

    def exists(self, key: str) -> bool:
        """Return whether the object exists."""
        return self._head(key) is not None

    def size(self, key: str) -> int:
        """Return the object's size in bytes."""
        head = self._head(key)
        if head is None:
            raise BlobNotFound(key)
        return int(head["ContentLength"])

    def ping(self) -> None:
        """Raise unless the bucket is reachable with the configured credentials."""
        self.client.head_bucket(Bucket=self.bucket)


def _stream_body(body: Any, chunk_size: int) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(chunk_size)
    finally:
        # Release the pooled connection even if the consumer stops early.
        body.close()
