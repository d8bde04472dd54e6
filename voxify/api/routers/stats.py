"""GET /api/v1/stats/me: the caller's usage (seed 004's statistics)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from voxify.api.deps import CurrentUser, ServicesDep
from voxify.api.envelope import respond
from voxify.db.session import session_scope
from voxify.usage import usage

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])


@router.get("/me")
def my_usage(user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Syntheses today and quota left, requests this minute, audio made by voice and engine,
    jobs by type and status."""
    with session_scope(services.sessions) as session:
        data = usage(session=session, limits_in_force=services.limits.for_user(user), user=user)
    return respond(data)
