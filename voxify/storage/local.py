"""Blob store backed by a directory on the local filesystem."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from voxify.storage.base import (
    DEFAULT_CHUNK_SIZE,
    BlobNotFound,
    validate_chunk_size,
    validate_key,
)

# Errors that mean "nothing readable at this path": missing file, a directory where the blob
# would be, or a file where a parent directory would be.
_MISSING_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError)


class LocalBlobStore:
    """Stores each blob as a file at `root/key`."""

    def __init__(self, root: Path) -> None:
        # Resolve once so the containment check compares canonical paths.
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        validate_key(key)
        path = (self.root / key).resolve()
        # validate_key already rules out '..', but a symlink inside root could still point out.
        if not path.is_relative_to(self.root) or path == self.root:
            raise ValueError(f"blob key escapes the store root: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Atomically write `data` to `root/key`; content_type is not persisted locally."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Temp file in the same directory so os.replace is an atomic same-filesystem rename
        # and readers never observe a partially written blob.
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        """Return the blob's bytes."""
        path = self._path(key)
        try:
            return path.read_bytes()
        except _MISSING_ERRORS as exc:
            raise BlobNotFound(key) from exc

    def iter_chunks(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """Open the blob now (so a missing key fails at call time) and stream it lazily."""
        validate_chunk_size(chunk_size)
        path = self._path(key)
        try:
            handle = path.open("rb")
        except _MISSING_ERRORS as exc:
            raise BlobNotFound(key) from exc
        return _read_chunks(handle, chunk_size)

    def delete(self, key: str) -> None:
        """Remove the blob if present."""
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            path.unlink()

    def exists(self, key: str) -> bool:
        """Return whether a regular file is stored at `root/key`."""
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        """Return the blob's size in bytes."""
        path = self._path(key)
        try:
            st = path.stat()
        except _MISSING_ERRORS as exc:
            raise BlobNotFound(key) from exc
        if not stat.S_ISREG(st.st_mode):
            raise BlobNotFound(key)
        return st.st_size

    def ping(self) -> None:
        """Raise OSError unless the root is an existing, writable directory."""
        if not self.root.is_dir():
            raise OSError(f"blob store root is not a directory: {self.root}")
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise OSError(f"blob store root is not writable: {self.root}")


def _read_chunks(handle: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(chunk_size):
            yield chunk
