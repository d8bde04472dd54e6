"""Voice samples: validate and store uploads, start processing, list, delete."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy.orm import Session

from voxify import limits
from voxify.audio.encode import FORMATS
from voxify.audio.ingest import decode_upload, prepare_sample, sniff_format
from voxify.config import Settings
from voxify.db.models import Job, User, VoiceSample
from voxify.errors import InvalidAudio, InvalidFilename, NotFound, PayloadTooLarge
from voxify.ids import new_id
from voxify.jobs import repository as jobs_repository
from voxify.jobs.service import cancel_running
from voxify.status import JobStatus, JobType, SampleStatus
from voxify.voices import repository
from voxify.voices.schemas import SampleCreate

_PATHLIKE = re.compile(r"(^|[\\/])\.\.([\\/]|$)|[\\/]|^\.|^[A-Za-z]:")


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that decoded and passed validation, ready to be stored."""

    data: bytes
    format: str
    duration: float
    sample_rate: int


def check_filename(filename: str | None) -> str:
    """The upload's name if it is a plain file name; paths and control characters are refused."""
    name = (filename or "").strip()
    if not name:
        return "upload"
    if (
        len(name) > 255
        or _PATHLIKE.search(name)
        or any(unicodedata.category(ch).startswith("C") for ch in name)
    ):
        raise InvalidFilename(
            "The file name must be a plain name, without directories, '..' or control characters",
            details={"filename": name[:100]},
        )
    return name


def check_upload(data: bytes, *, settings: Settings, max_bytes: int) -> CheckedUpload:
    """Decode and validate an upload now, so a bad file never becomes a row or a blob."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"The file is larger than {max_bytes} bytes", details={"max_bytes": max_bytes}
        )
    fmt = sniff_format(data[:16])
    audio = decode_upload(data)
    if fmt is None:  # decode_upload already refuses these; this keeps mypy and readers sure
        raise InvalidAudio("The upload is not a WAV, FLAC, OGG or MP3 file")
    # Too short, too long, silent: refused at upload, with the figures.
    prepare_sample(
        audio, min_speech_s=settings.min_sample_speech_s, max_speech_s=settings.max_sample_speech_s
    )
    return CheckedUpload(
        data=data, format=fmt, duration=round(audio.duration, 3), sample_rate=audio.sample_rate
    )


def upload_key(owner_id: str, sample_id: str, fmt: str) -> str:
    """Where an upload's original bytes live in the blob store."""
    return f"samples/{owner_id}/{sample_id}/original.{fmt}"


def processed_key(owner_id: str, sample_id: str) -> str:
    """Where a sample's processed clip lives in the blob store."""
    return f"samples/{owner_id}/{sample_id}/processed.wav"


def create_sample(
    *,
    session: Session,
    uploads_per_day: int,
    user: User,
    data: SampleCreate,
    upload: CheckedUpload,
    filename: str,
    sample_id: str,
) -> VoiceSample:
    """Insert the row of a stored upload and count it against the daily upload limit."""
    limits.hit_daily(session=session, key=limits.upload_key(user.id), limit=uploads_per_day)
    sample = VoiceSample(
        id=sample_id,
        user_id=user.id,
        name=data.name,
        description=data.description,
        language=data.language,
        transcript=data.transcript,
        status=SampleStatus.UPLOADED,
        format=upload.format,
        original_filename=filename,
        file_size=len(upload.data),
        duration=upload.duration,
        original_sample_rate=upload.sample_rate,
        channels=1,
        upload_blob_key=upload_key(user.id, sample_id, upload.format),
    )
    repository.add(session=session, row=sample)
    return sample


def new_sample_id() -> str:
    """A fresh sample id (the blob is written under it before the row exists)."""
    return new_id("vs")


def content_type(fmt: str) -> str:
    """The MIME type of a stored upload."""
    return FORMATS.get(fmt, "application/octet-stream")


def get_sample(*, session: Session, user: User, sample_id: str) -> VoiceSample:
    """The user's sample, or NotFound (also for other users' samples)."""
    sample = repository.get_sample(session=session, sample_id=sample_id, owner_id=user.id)
    if sample is None:
        raise NotFound(f"Voice sample '{sample_id}' not found")
    return sample


def start_processing(
    *, session: Session, user: User, sample_id: str
) -> tuple[VoiceSample, Job, bool]:
    """Queue processing of a sample; returns (sample, job, created). Idempotent while running."""
    sample = get_sample(session=session, user=user, sample_id=sample_id)
    if sample.job_id and sample.status in (SampleStatus.PROCESSING, SampleStatus.READY):
        job = jobs_repository.get_job(session=session, job_id=sample.job_id, owner_id=user.id)
        if job is not None:
            return sample, job, False
    job = Job(
        id=new_id("job"),
        user_id=user.id,
        type=JobType.SAMPLE_PROCESSING,
        status=JobStatus.PENDING,
        progress=0.0,
        message="Sample processing queued",
        subject_id=sample.id,
        title=f"Voice sample processing - {sample.name}"[:255],
        text_language=sample.language,
    )
    jobs_repository.add_job(session=session, job=job)
    sample.job_id = job.id
    sample.status = SampleStatus.PROCESSING
    sample.error_message = None
    session.flush()
    return sample, job, True


def delete_sample(*, session: Session, user: User, sample_id: str) -> list[str]:
    """Delete a sample (stopping its processing); returns blob keys to remove after commit."""
    sample = get_sample(session=session, user=user, sample_id=sample_id)
    if sample.job_id:
        cancel_running(session=session, job_id=sample.job_id, reason="Sample deleted")
    keys = [sample.upload_blob_key, processed_key(user.id, sample.id)]
    repository.delete(session=session, row=sample)
    return keys
