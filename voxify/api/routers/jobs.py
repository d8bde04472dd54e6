"""Job management: one router mounted at /api/v1/job (seed 000) and /api/v1/jobs (seed 001)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import AwareDatetime

from voxify.api.context import Services
from voxify.api.deps import CurrentUser, PageDep, ServicesDep, scoped
from voxify.api.envelope import respond
from voxify.api.openapi import events_answer
from voxify.auth.keys import Scope
from voxify.db.models import User
from voxify.db.session import session_scope
from voxify.errors import InvalidParameter
from voxify.jobs import repository, service
from voxify.jobs.recovery import launch_job
from voxify.jobs.repository import SORTABLE, JobFilters
from voxify.jobs.schemas import JobCreate, JobPatch, JobPublic, JobUpdate
from voxify.status import JobStatus, JobType

router = APIRouter(tags=["jobs"])

STATUS_ALIASES = {"running": JobStatus.PROCESSING, "queued": JobStatus.PENDING}
TYPE_ALIASES = {"voice_training": JobType.CLONE_TRAINING, "training": JobType.CLONE_TRAINING}
STATUSES = tuple(JobStatus)
TYPES = tuple(JobType)


@router.get("")
def list_jobs(
    user: CurrentUser,
    services: ServicesDep,
    page: PageDep,
    status: str | None = None,
    type: str | None = None,
    user_id: str | None = None,
    voice_model_id: Annotated[str | None, Query(max_length=200)] = None,
    text_search: Annotated[str | None, Query(max_length=200)] = None,
    created_after: AwareDatetime | None = None,
    created_before: AwareDatetime | None = None,
    sort_by: str = "created_at",
    sort_order: Literal["asc", "desc"] = "desc",
    include_text: bool = True,
) -> JSONResponse:
    """List the caller's jobs with filters, sorting and pagination."""
    status = STATUS_ALIASES.get(status or "", status)
    job_type = TYPE_ALIASES.get(type or "", type)
    if status and status not in STATUSES:
        raise InvalidParameter(f"Unknown status '{status}'", details={"allowed": STATUSES})
    if job_type and job_type not in TYPES:
        raise InvalidParameter(f"Unknown type '{job_type}'", details={"allowed": TYPES})
    if sort_by not in SORTABLE:
        raise InvalidParameter(f"Cannot sort by '{sort_by}'", details={"allowed": list(SORTABLE)})
    owner = user_id if user.role == "admin" and user_id else user.id
    if created_after and created_before and created_after >= created_before:
        raise InvalidParameter("created_after must be earlier than created_before")
    filters = JobFilters(
        status=status,
        type=job_type,
        voice_model_id=voice_model_id,
        text_search=text_search,
        created_after=created_after,
        created_before=created_before,
    )
    with session_scope(services.sessions) as session:
        jobs, total = repository.list_jobs(
            session=session,
            owner_id=owner,
            filters=filters,
            sort_by=sort_by,
            descending=sort_order == "desc",
            limit=page.limit,
            offset=page.offset,
        )
        if user_id and user_id != owner:  # a non-admin asked for someone else's jobs
            jobs, total = [], 0
        data = [JobPublic.of(job, include_text=include_text) for job in jobs]
    return respond(data, meta={"pagination": page.pagination(total)})


@router.post("", status_code=201, dependencies=[Depends(scoped(Scope.SYNTHESIZE))])
def create_job(data: JobCreate, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Create a synthesis job; it runs in the background."""
    with session_scope(services.sessions) as session:
        job = service.create_synthesis_job(
            session=session, speech=services.speech, user=user, data=data
        )
        public = JobPublic.of(job)
    launch_job(services.launcher, job.id)
    return respond(public, message="Synthesis job created successfully", status_code=201)


@router.get("/{job_id}")
def get_job(job_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """One of the caller's jobs."""
    with session_scope(services.sessions) as session:
        job = service.get_job(session=session, user=user, job_id=job_id)
        return respond(JobPublic.of(job))


@router.put("/{job_id}")
def update_job(
    job_id: str, data: JobUpdate, user: CurrentUser, services: ServicesDep
) -> JSONResponse:
    """Update a pending job's text or configuration."""
    with session_scope(services.sessions) as session:
        job = service.update_job(
            session=session, speech=services.speech, user=user, job_id=job_id, data=data
        )
        public = JobPublic.of(job)
    return respond(public, message="Job updated successfully")


@router.patch("/{job_id}")
def patch_job(
    job_id: str, data: JobPatch, user: CurrentUser, services: ServicesDep
) -> JSONResponse:
    """Partially update a job (configuration while pending; status 'cancelled')."""
    with session_scope(services.sessions) as session:
        job = service.patch_job(
            session=session, speech=services.speech, user=user, job_id=job_id, data=data
        )
        public = JobPublic.of(job)
    return respond(public, message="Job updated successfully")


@router.delete("/{job_id}")
def delete_job(job_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Delete a job that is not processing, with its output."""
    with session_scope(services.sessions) as session:
        keys = service.delete_job(session=session, user=user, job_id=job_id)
    for key in keys:
        services.blobs.delete(key)
    return respond(None, message="Job deleted successfully")


@router.post("/{job_id}/cancel")
def cancel_job(job_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Cancel a pending or running job."""
    with session_scope(services.sessions) as session:
        job = service.cancel_job(session=session, user=user, job_id=job_id)
        public = JobPublic.of(job)
    return respond(public, message="Job cancelled")


@router.get(
    "/{job_id}/progress",
    response_class=StreamingResponse,
    responses=events_answer("The job's progress until it ends, then complete"),
)
async def job_progress(job_id: str, user: CurrentUser, services: ServicesDep) -> StreamingResponse:
    """Server-Sent Events with the job's progress until it ends."""
    await run_in_threadpool(_owned_job, services, user, job_id)  # 404 before streaming

    async def events() -> AsyncIterator[str]:
        async for event in services.progress.listen(job_id):
            yield ": keep-alive\n\n" if event is None else f"data: {json.dumps(event)}\n\n"
        yield 'data: {"event": "complete"}\n\n'

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _owned_job(services: Services, user: User, job_id: str) -> None:
    with session_scope(services.sessions) as session:
        service.get_job(session=session, user=user, job_id=job_id)
