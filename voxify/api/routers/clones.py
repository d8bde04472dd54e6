"""Voice clones: create from ready samples, list, get, delete, cancel, select."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from voxify.api.deps import CurrentUser, PageDep, ServicesDep
from voxify.api.envelope import respond
from voxify.db.models import User, VoiceClone
from voxify.db.session import session_scope
from voxify.errors import InvalidParameter
from voxify.jobs.estimates import estimate_s
from voxify.jobs.recovery import launch_job
from voxify.status import JobType
from voxify.voices import clones, repository
from voxify.voices.purge import delete_and_purge
from voxify.voices.schemas import CLONE_STATUSES, CloneCreate, ClonePublic

router = APIRouter(prefix="/api/v1/voice/clones", tags=["voice clones"])


@router.post("", status_code=201)
def create_clone(data: CloneCreate, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Start training a clone from processed samples; it runs in the background."""
    with session_scope(services.sessions) as session:
        clone, job = clones.create_clone(
            session=session, settings=services.settings, user=user, data=data
        )
        public = ClonePublic.of(clone, job=job, selected_id=user.selected_voice_id)
        estimated = estimate_s(session=session, job_type=JobType.CLONE_TRAINING)
    launch_job(services.launcher, job.id)
    body = {**public.model_dump(), "estimated_duration": estimated}
    return respond(body, message="Voice clone creation started", status_code=201)


@router.get("")
def list_clones(
    user: CurrentUser, services: ServicesDep, page: PageDep, status: str | None = None
) -> JSONResponse:
    """The caller's clones, newest first."""
    if status and status not in CLONE_STATUSES:
        raise InvalidParameter(f"Unknown status '{status}'", details={"allowed": CLONE_STATUSES})
    with session_scope(services.sessions) as session:
        rows, total = repository.list_clones(
            session=session, owner_id=user.id, status=status, limit=page.limit, offset=page.offset
        )
        data = [_public(session, user, row) for row in rows]
    return respond(data, meta={"pagination": page.pagination(total)})


@router.get("/{clone_id}")
def get_clone(clone_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """One clone with its training progress and samples."""
    with session_scope(services.sessions) as session:
        public = _public(
            session, user, clones.get_clone(session=session, user=user, clone_id=clone_id)
        )
    return respond(public)


@router.delete("/{clone_id}")
async def delete_clone(clone_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Delete a clone, its stored artefacts and its embedding."""
    await delete_and_purge(
        sessions=services.sessions,
        blobs=services.blobs,
        voiceprints=services.voiceprints_async,
        delete=lambda session: clones.delete_clone(session=session, user=user, clone_id=clone_id),
        vector_id=clone_id,
    )
    return respond(
        {"clone_id": clone_id, "deleted": True}, message="Voice clone deleted successfully"
    )


@router.post("/{clone_id}/cancel")
def cancel_clone(clone_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Stop a pending or training clone."""
    with session_scope(services.sessions) as session:
        public = _public(
            session, user, clones.cancel_clone(session=session, user=user, clone_id=clone_id)
        )
    return respond(public, message="Voice clone training cancelled")


@router.post("/{clone_id}/select")
def select_clone(clone_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Make this clone the voice used when a synthesis request names none."""
    with session_scope(services.sessions) as session:
        public = _public(
            session, user, clones.select_clone(session=session, user=user, clone_id=clone_id)
        )
    return respond(public, message="Voice clone selected as the active voice")


def _public(session: Session, user: User, clone: VoiceClone) -> ClonePublic:
    # The request's user row was read in another transaction; a select may have moved on.
    row = session.get(User, user.id)
    return ClonePublic.of(
        clone,
        job=clones.clone_job(session=session, clone=clone),
        selected_id=row.selected_voice_id if row else None,
    )
