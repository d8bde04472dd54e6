"""Synthesis jobs: create, edit while pending, cancel, delete, list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from voxify import limits
from voxify.config import Settings
from voxify.db.models import Job, User, utcnow
from voxify.errors import Forbidden, InvalidState, NotFound
from voxify.files import repository as files_repository
from voxify.ids import new_id
from voxify.jobs import repository
from voxify.jobs.schemas import TERMINAL, JobCreate, JobPatch, JobUpdate
from voxify.text import clean_text, text_hash, word_count
from voxify.voices.resolve import resolve_voice

EDITABLE = ("voice_model_id", "text_language", "output_format", "sample_rate", "speed", "pitch",
            "volume", "config")
RUN_FIELDS = ("progress", "error_message", "output_file_path", "duration")


def create_synthesis_job(
    *, session: Session, settings: Settings, user: User, data: JobCreate,
    xtts_speakers: Sequence[str] | None,
) -> Job:
    """Validate and insert a pending synthesis job; the caller launches it after commit."""
    text = clean_text(data.text_content, max_chars=settings.max_job_text_chars)
    voice = resolve_voice(session=session, user=user, voice_id=data.voice_model_id,
                          language=data.text_language, xtts_speakers=xtts_speakers)
    limits.hit_daily(session=session, key=limits.synthesis_key(user.id),
                     limit=settings.syntheses_per_day)
    job = Job(
        id=new_id("job"),
        user_id=user.id,
        type="synthesis",
        status="pending",
        progress=0.0,
        message="Job queued for processing",
        title=_title(text),
        voice_model_id=voice.voice_model_id,
        text_language=data.text_language,
        output_format=data.output_format,
        sample_rate=data.sample_rate,
        speed=data.speed,
        pitch=data.pitch,
        volume=data.volume,
        config=data.config,
        **_text_fields(text),
    )
    return repository.add_job(session=session, job=job)


def get_job(*, session: Session, user: User, job_id: str) -> Job:
    """The user's job, or NotFound (also for other users' jobs)."""
    job = repository.get_job(session=session, job_id=job_id, owner_id=user.id)
    if job is None:
        raise NotFound(f"Job '{job_id}' not found")
    return job


def update_job(
    *, session: Session, settings: Settings, user: User, job_id: str, data: JobUpdate,
    xtts_speakers: Sequence[str] | None,
) -> Job:
    """Change the configuration of a job that has not started yet."""
    job = get_job(session=session, user=user, job_id=job_id)
    if job.status != "pending":
        raise InvalidState(f"Only pending jobs can be updated; this one is {job.status}")
    changes = data.model_dump(exclude_unset=True, exclude_none=True, include=set(EDITABLE))
    if data.text_content is not None:
        changes.update(_text_fields(clean_text(data.text_content,
                                               max_chars=settings.max_job_text_chars)))
        changes["title"] = _title(changes["text_content"])
    language = changes.get("text_language", job.text_language)
    voice = resolve_voice(session=session, user=user,
                          voice_id=changes.get("voice_model_id", job.voice_model_id),
                          language=language, xtts_speakers=xtts_speakers)
    changes["voice_model_id"] = voice.voice_model_id
    if not repository.transition(session=session, job_id=job.id, from_statuses=("pending",),
                                 **changes):
        raise InvalidState("The job started before the update could be applied")
    session.refresh(job)
    return job


def patch_job(
    *, session: Session, settings: Settings, user: User, job_id: str, data: JobPatch,
    xtts_speakers: Sequence[str] | None,
) -> Job:
    """Partial update: configuration while pending, cancellation, run fields for admins."""
    fields = data.model_dump(exclude_unset=True)
    status = fields.pop("status", None)
    run_fields = {k: fields.pop(k) for k in RUN_FIELDS if k in fields}
    if fields:
        update_job(session=session, settings=settings, user=user, job_id=job_id,
                   data=JobUpdate(**fields), xtts_speakers=xtts_speakers)
    if run_fields or (status is not None and status != "cancelled"):
        if user.role != "admin":
            raise Forbidden("Only administrators may set a job's status or run fields; "
                            "owners may set status to 'cancelled'")
        job = get_job(session=session, user=user, job_id=job_id)
        values: dict[str, Any] = dict(run_fields)
        if status is not None:
            values["status"] = status
            if status in TERMINAL:
                values["completed_at"] = utcnow()
        repository.transition(session=session, job_id=job.id,
                              from_statuses=(job.status,), **values)
    elif status == "cancelled":
        cancel_job(session=session, user=user, job_id=job_id)
    job = get_job(session=session, user=user, job_id=job_id)
    session.refresh(job)
    return job


def cancel_job(*, session: Session, user: User, job_id: str) -> Job:
    """Cancel a pending or running job; a runner notices and stops between chunks."""
    job = get_job(session=session, user=user, job_id=job_id)
    if job.status in TERMINAL:
        raise InvalidState(f"The job is already {job.status}")
    if not repository.transition(
        session=session, job_id=job.id, from_statuses=("pending", "processing"),
        status="cancelled", message="Cancelled by the user", completed_at=utcnow(),
    ):
        session.refresh(job)
        raise InvalidState(f"The job is already {job.status}")
    session.refresh(job)
    return job


def delete_job(*, session: Session, user: User, job_id: str) -> list[str]:
    """Delete a job that is not running, with its output file row.

    Returns the blob keys to remove once the transaction has committed, so a rolled-back
    delete never leaves a row without its bytes.
    """
    job = get_job(session=session, user=user, job_id=job_id)
    if job.status == "processing":
        raise InvalidState("A processing job cannot be deleted; cancel it first")
    file = None
    if job.output_file_id:
        file = files_repository.get_file(session=session, file_id=job.output_file_id,
                                         owner_id=user.id)
    repository.delete_job(session=session, job=job)
    if file is None:
        return []
    files_repository.delete_file(session=session, file=file)
    return [file.blob_key]


def _text_fields(text: str) -> dict[str, Any]:
    return {
        "text_content": text,
        "text_hash": text_hash(text),
        "text_length": len(text),
        "word_count": word_count(text),
    }


def _title(text: str) -> str:
    return f"Speech synthesis - {text[:60]}{'…' if len(text) > 60 else ''}"


def cancel_running(*, session: Session, job_id: str, reason: str) -> bool:
    """Cancel a job that has not ended (its subject is going away); False if it had ended."""
    return repository.transition(
        session=session, job_id=job_id, from_statuses=("pending", "processing"),
        status="cancelled", message=reason, completed_at=utcnow(),
    )
