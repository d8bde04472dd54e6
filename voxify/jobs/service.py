"""Synthesis jobs: create, edit while pending, cancel, delete, list."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from voxify.db.models import Job, User, utcnow
from voxify.errors import Forbidden, InvalidState, NotFound
from voxify.files import repository as files_repository
from voxify.ids import new_id
from voxify.jobs import repository
from voxify.jobs.schemas import JobCreate, JobPatch, JobUpdate
from voxify.status import TERMINAL, UNFINISHED, JobStatus, JobType
from voxify.synthesis import Door, SynthesisService
from voxify.synthesis.job import job_speech
from voxify.text import text_hash, word_count

EDITABLE = (
    "voice_model_id",
    "text_language",
    "output_format",
    "sample_rate",
    "speed",
    "pitch",
    "volume",
    "config",
)
RUN_FIELDS = ("progress", "error_message", "output_file_path", "duration")


def create_synthesis_job(
    *,
    session: Session,
    speech: SynthesisService,
    user: User,
    data: JobCreate,
) -> Job:
    """Admit (rules, quota) and insert a pending synthesis job; the caller launches it after
    commit."""
    job = Job(
        id=new_id("job"),
        user_id=user.id,
        type=JobType.SYNTHESIS,
        status=JobStatus.PENDING,
        progress=0.0,
        message="Job queued for processing",
        **data.model_dump(include=set(EDITABLE) | {"text_content"}),
    )
    admitted = speech.admit(session=session, user=user, door=Door.JOB, speech=job_speech(job))
    job.voice_model_id = admitted.voice.voice_model_id
    job.text_language = admitted.request.language  # none asked for: the voice's own
    # The rate planned when none was asked for.
    job.sample_rate = admitted.request.sample_rate or admitted.voice.sample_rate
    job.title = _title(admitted.request.text)
    for name, value in _text_fields(admitted.request.text).items():
        setattr(job, name, value)
    return repository.add_job(session=session, job=job)


def get_job(*, session: Session, user: User, job_id: str) -> Job:
    """The user's job, or NotFound (also for other users' jobs)."""
    job = repository.get_job(session=session, job_id=job_id, owner_id=user.id)
    if job is None:
        raise NotFound(f"Job '{job_id}' not found")
    return job


def update_job(
    *,
    session: Session,
    speech: SynthesisService,
    user: User,
    job_id: str,
    data: JobUpdate,
) -> Job:
    """Change the configuration of a job that has not started yet (checked as a new one)."""
    job = get_job(session=session, user=user, job_id=job_id)
    if job.status != JobStatus.PENDING:
        raise InvalidState(f"Only pending jobs can be updated; this one is {job.status}")
    changes = data.model_dump(exclude_unset=True, exclude_none=True, include=set(EDITABLE))
    if data.text_content is not None:
        changes["text_content"] = data.text_content
    if "output_format" in changes and "sample_rate" not in changes:
        changes["sample_rate"] = None  # planned again: the rate the new format carries
    merged = job_speech(job, **changes)
    admitted = speech.admit(session=session, user=user, speech=merged, door=Door.JOB, charge=False)
    changes["sample_rate"] = admitted.request.sample_rate
    if data.text_content is not None:
        changes.update(_text_fields(admitted.request.text))
        changes["title"] = _title(changes["text_content"])
    changes["voice_model_id"] = admitted.voice.voice_model_id
    if not repository.transition(
        session=session, job_id=job.id, from_statuses=(JobStatus.PENDING,), **changes
    ):
        raise InvalidState("The job started before the update could be applied")
    session.refresh(job)
    return job


def patch_job(
    *,
    session: Session,
    speech: SynthesisService,
    user: User,
    job_id: str,
    data: JobPatch,
) -> Job:
    """Partial update: configuration while pending, cancellation, run fields for admins."""
    fields = data.model_dump(exclude_unset=True)
    status = fields.pop("status", None)
    run_fields = {k: fields.pop(k) for k in RUN_FIELDS if k in fields}
    if fields:
        update_job(
            session=session, speech=speech, user=user, job_id=job_id, data=JobUpdate(**fields)
        )
    if run_fields or (status is not None and status != JobStatus.CANCELLED):
        if user.role != "admin":
            raise Forbidden(
                "Only administrators may set a job's status or run fields; "
                "owners may set status to 'cancelled'"
            )
        job = get_job(session=session, user=user, job_id=job_id)
        values: dict[str, Any] = dict(run_fields)
        if status is not None:
            values["status"] = status
            if status in TERMINAL:
                values["completed_at"] = utcnow()
        repository.transition(session=session, job_id=job.id, from_statuses=(job.status,), **values)
    elif status == JobStatus.CANCELLED:
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
        session=session,
        job_id=job.id,
        from_statuses=UNFINISHED,
        status=JobStatus.CANCELLED,
        message="Cancelled by the user",
        completed_at=utcnow(),
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
    if job.status == JobStatus.PROCESSING:
        raise InvalidState("A processing job cannot be deleted; cancel it first")
    file = None
    if job.output_file_id:
        file = files_repository.get_file(
            session=session, file_id=job.output_file_id, owner_id=user.id
        )
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
        session=session,
        job_id=job_id,
        from_statuses=UNFINISHED,
        status=JobStatus.CANCELLED,
        message=reason,
        completed_at=utcnow(),
    )
