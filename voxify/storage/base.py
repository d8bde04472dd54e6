"""The blob-store contract shared by every storage backend."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol

MAX_KEY_LENGTH = 512
DEFAULT_CHUNK_SIZE = 64 * 1024

_SEGMENT_RE = re.compile(r"[A-Za-z0-9._-]+")


class BlobNotFound(KeyError):
    """Raised when a key does not name a stored blob."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        # KeyError.__str__ would repr() the key; a plain message reads better in logs.
        return f"blob not found: {self.key}"


def validate_key(key: str) -> str:
    """Return `key` unchanged if it is a safe relative blob key, else raise ValueError."""
    if not isinstance(key, str):
        raise TypeError(f"blob key must be a string, got {type(key).__name__}")
    if not key:
        raise ValueError("blob key must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"blob key longer than {MAX_KEY_LENGTH} characters")
    if key.startswith("/"):
        raise ValueError(f"blob key must be relative: {key!r}")
    for segment in key.split("/"):
        if not segment:
            raise ValueError(f"blob key has an empty segment: {key!r}")
        if segment in (".", ".."):
            raise ValueError(f"blob key has a '.' or '..' segment: {key!r}")
        if not _SEGMENT_RE.fullmatch(segment):
            raise ValueError(f"blob key segment {segment!r} has characters outside [A-Za-z0-9._-]")
    return key


def validate_chunk_size(chunk_size: int) -> int:
    """Return `chunk_size` if it is a positive int, else raise ValueError."""
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    return chunk_size


class BlobStore(Protocol):
    """Flat key -> bytes storage; keys are validated with `validate_key`."""

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Store `data` under `key`, replacing any existing blob."""
        ...

    def get(self, key: str) -> bytes:
        """Return the whole blob; raise BlobNotFound if it is missing."""
        ...

    def iter_chunks(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """Stream the blob in chunks; raise BlobNotFound at call time if it is missing."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob; a missing key is not an error."""
        ...

    def exists(self, key: str) -> bool:
        """Return whether a blob is stored under `key`."""
        ...

    def size(self, key: str) -> int:
        """Return the blob's size in bytes; raise BlobNotFound if it is missing."""
        ...

    def ping(self) -> None:
        """Raise if the backend is unreachable or unusable."""
        ...
