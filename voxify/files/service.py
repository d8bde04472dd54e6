"""Store rendered audio and find it again by file id or job id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from voxify.audio.encode import content_type, encode
from voxify.db.models import File
from voxify.errors import NotFound
from voxify.files import repository
from voxify.ids import new_id
from voxify.speech import Audio
from voxify.storage import BlobNotFound, BlobStore

# Behind Serve's proxy each chunk of a download is one message from the ingress replica to
# the proxy: a synthesized sentence's WAV (a few hundred KB) goes as a single one.
DOWNLOAD_CHUNK_BYTES = 1024 * 1024


def download_path(file_id: str) -> str:
    """The API path that downloads a file."""
    return f"/api/v1/files/audio/{file_id}"


def write_audio(
    *,
    blobs: BlobStore,
    owner_id: str,
    audio: Audio,
    fmt: str,
    file_id: str | None = None,
    voice_id: str | None = None,
    engine: str | None = None,
) -> tuple[File, bytes]:
    """Encode ``audio`` and put it in the blob store; returns the unsaved File row and the
    bytes written (so a caller that hands them on does not read them back).

    The blob is written before the row so that a row never points at missing bytes; a caller
    whose transaction fails deletes the blob (see ``discard``).
    """
    data = encode(audio, fmt)
    file_id = file_id or new_id("file")
    key = f"outputs/{owner_id}/{file_id}.{fmt}"
    media_type = content_type(fmt, audio.sample_rate)
    blobs.put(key, data, media_type)
    return File(
        id=file_id,
        owner_id=owner_id,
        blob_key=key,
        filename=f"{file_id}.{fmt}",
        content_type=media_type,
        size=len(data),
        duration=round(audio.duration, 3),
        sample_rate=audio.sample_rate,
        format=fmt,
        voice_id=voice_id,
        engine=engine,
    ), data


def discard(*, blobs: BlobStore, file: File) -> None:
    """Delete the bytes of a file whose row did not land."""
    blobs.delete(file.blob_key)


def resolve(*, session: Session, owner_id: str, file_or_job_id: str) -> File:
    """A file by its own id or by the id of the job that produced it (seed workflows)."""
    if file_or_job_id.startswith("job_"):
        file = repository.get_file_by_job(session=session, job_id=file_or_job_id, owner_id=owner_id)
    else:
        file = repository.get_file(session=session, file_id=file_or_job_id, owner_id=owner_id)
    if file is None:
        raise NotFound(f"File '{file_or_job_id}' not found")
    return file


def open_stream(*, blobs: BlobStore, file: File) -> tuple[bytes, Iterator[bytes] | None]:
    """A file's first chunk and, if there is more, an iterator over the rest; a row whose blob
    vanished answers NotFound, not a 500. A file of one chunk is sent in one message."""
    try:
        chunks = blobs.iter_chunks(file.blob_key, chunk_size=DOWNLOAD_CHUNK_BYTES)
        first = next(chunks, b"")
    except BlobNotFound as exc:
        raise NotFound(f"File '{file.id}' content is missing") from exc
    if len(first) < DOWNLOAD_CHUNK_BYTES:
        close = getattr(chunks, "close", None)
        if close is not None:  # a generator holding the file open
            close()
        return first, None
    return first, chunks


def file_info(file: File) -> dict[str, Any]:
    """The public view of a file (seed 001 File Information)."""
    expires: datetime | None = file.expires_at
    return {
        "file_id": file.id,
        "filename": file.filename,
        "content_type": file.content_type,
        "size": file.size,
        "duration": file.duration,
        "sample_rate": file.sample_rate,
        "format": file.format,
        "job_id": file.job_id,
        "download_url": download_path(file.id),
        "created_at": file.created_at,
        "expires_at": expires,
    }
