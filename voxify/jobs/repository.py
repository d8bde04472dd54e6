"""Job rows: small functions over an explicit session; ownership is part of every query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from voxify.db.models import Job, VoiceClone, VoiceSample, utcnow
from voxify.db.text_search import ESCAPE, contains_pattern
from voxify.observability import metrics
from voxify.observability.context import current_request_id
from voxify.observability.logs import log_event
from voxify.status import CloneStatus, JobStatus, JobType, SampleStatus

SORTABLE = {
    "created_at": Job.created_at,
    "updated_at": Job.updated_at,
    "status": Job.status,
    "progress": Job.progress,
    "text_length": Job.text_length,
    "duration": Job.duration,
}


@dataclass(frozen=True)
class JobFilters:
    status: str | None = None
    type: str | None = None
    voice_model_id: str | None = None
    text_search: str | None = None
    created_after: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive


def add_job(*, session: Session, job: Job) -> Job:
    """Insert a new job row, carrying the id of the request that made it (logs, retries)."""
    job.request_id = job.request_id or current_request_id()
    session.add(job)
    session.flush()
    status = job.status or JobStatus.PENDING
    metrics.JOB_TRANSITIONS.inc(type=job.type, status=status)
    log_event("job.transition", job_id=job.id, type=job.type, status=status)
    return job


def get_job(*, session: Session, job_id: str, owner_id: str) -> Job | None:
    """The owner's job with this id, or None (another user's job is simply absent)."""
    return session.scalar(select(Job).where(Job.id == job_id, Job.user_id == owner_id))


def get_job_any_owner(*, session: Session, job_id: str) -> Job | None:
    """A job by id regardless of owner: for runners, which act on ids they were handed."""
    return session.get(Job, job_id)


def get_jobs_any_owner(session: Session, job_ids: list[str]) -> list[Job]:
    """The jobs among ``job_ids`` that exist, regardless of owner (progress watchers)."""
    return list(session.scalars(select(Job).where(Job.id.in_(job_ids))))


def list_jobs(
    *,
    session: Session,
    owner_id: str | None,
    filters: JobFilters,
    sort_by: str,
    descending: bool,
    limit: int,
    offset: int,
) -> tuple[list[Job], int]:
    """One page of jobs and the total count matching the filters."""
    query = select(Job)
    for condition in _conditions(owner_id, filters):
        query = query.where(condition)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    column = SORTABLE[sort_by]
    order = column.desc() if descending else column.asc()
    page = session.scalars(query.order_by(order, Job.id).limit(limit).offset(offset)).all()
    return list(page), total


def _conditions(owner_id: str | None, filters: JobFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if owner_id is not None:
        conditions.append(Job.user_id == owner_id)
    if filters.status:
        conditions.append(Job.status == filters.status)
    if filters.type:
        conditions.append(Job.type == filters.type)
    if filters.voice_model_id:
        conditions.append(Job.voice_model_id == filters.voice_model_id)
    if filters.created_after is not None:
        conditions.append(Job.created_at >= filters.created_after)
    if filters.created_before is not None:
        conditions.append(Job.created_at < filters.created_before)
    if filters.text_search:
        pattern = contains_pattern(filters.text_search)
        conditions.append(
            or_(
                func.lower(Job.text_content).like(pattern, escape=ESCAPE),
                func.lower(Job.title).like(pattern, escape=ESCAPE),
            )
        )
    return conditions


def delete_job(*, session: Session, job: Job) -> None:
    """Remove a job row."""
    session.delete(job)
    session.flush()


def transition(
    *,
    session: Session,
    job_id: str,
    from_statuses: tuple[str, ...],
    owned_by: str | None = None,
    **values: Any,
) -> bool:
    """Atomically move a job out of ``from_statuses``; False when another actor got there first.

    Every state change of a running job goes through here, so two runners (or a runner and a
    cancel) can never both win.
    """
    query = update(Job).where(Job.id == job_id, Job.status.in_(from_statuses))
    if owned_by is not None:
        query = query.where(Job.runner_id == owned_by)
    values.setdefault("updated_at", utcnow())
    result = session.execute(query.values(**values).execution_options(synchronize_session=False))
    moved: bool = result.rowcount == 1  # type: ignore[attr-defined]
    if moved and "status" in values:
        job_type, request_id = _mirror_status(session, job_id)
        status = str(values["status"])
        metrics.JOB_TRANSITIONS.inc(type=job_type, status=status)
        # The request that created the job, wherever the job is now (a task, a recovery).
        log_event(
            "job.transition",
            request_id=request_id or current_request_id(),
            job_id=job_id,
            type=job_type,
            status=status,
        )
    return moved


# The status a job's subject shows while the job is in each state (DESIGN: sample and clone
# statuses). The job row stays the one source of truth; subjects follow it in the same
# transaction, so the two can never disagree.
SUBJECT_STATUS: dict[str, tuple[type[VoiceSample] | type[VoiceClone], dict[str, str]]] = {
    JobType.SAMPLE_PROCESSING: (
        VoiceSample,
        {
            JobStatus.PENDING: SampleStatus.PROCESSING,
            JobStatus.PROCESSING: SampleStatus.PROCESSING,
            JobStatus.COMPLETED: SampleStatus.READY,
            JobStatus.FAILED: SampleStatus.FAILED,
            JobStatus.CANCELLED: SampleStatus.UPLOADED,
        },
    ),
    JobType.CLONE_TRAINING: (
        VoiceClone,
        {
            JobStatus.PENDING: CloneStatus.PENDING,
            JobStatus.PROCESSING: CloneStatus.TRAINING,
            JobStatus.COMPLETED: CloneStatus.READY,
            JobStatus.FAILED: CloneStatus.FAILED,
            JobStatus.CANCELLED: CloneStatus.CANCELLED,
        },
    ),
}


def _mirror_status(session: Session, job_id: str) -> tuple[str, str | None]:
    """Give the job's subject (sample, clone) the status that follows the job's; returns the
    job's type and request id."""
    job = session.execute(
        select(Job.type, Job.status, Job.subject_id, Job.error_message, Job.request_id).where(
            Job.id == job_id
        )
    ).one()
    if job.type not in SUBJECT_STATUS or job.subject_id is None:
        return str(job.type), job.request_id
    model, statuses = SUBJECT_STATUS[job.type]
    error = job.error_message if job.status == JobStatus.FAILED else None
    session.execute(
        update(model)
        .where(model.id == job.subject_id, model.job_id == job_id)
        .values(status=statuses[job.status], error_message=error, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return str(job.type), job.request_id


def processing_jobs(*, session: Session) -> list[Job]:
    """Every job currently marked processing."""
    return list(session.scalars(select(Job).where(Job.status == JobStatus.PROCESSING)).all())


def pending_job_ids(*, session: Session) -> list[str]:
    """Ids of pending jobs, oldest first."""
    query = select(Job.id).where(Job.status == JobStatus.PENDING).order_by(Job.created_at)
    return list(session.scalars(query).all())
