"""Administration (seed 000 "Admin Endpoints"): service statistics, accounts, runtime limits
and the audit log of every change. Administrators only; anyone else gets 403."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse

from voxify.admin import audit, users
from voxify.admin.runtime import RuntimeLimits
from voxify.admin.stats import service_stats
from voxify.api.deps import AdminUser, PageDep, ServicesDep
from voxify.api.envelope import respond
from voxify.db.session import session_scope

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@router.get("/stats")
async def stats(_admin: AdminUser, services: ServicesDep) -> JSONResponse:
    """Users (and active today), jobs by type and status, the job queue, audio made by
    engine, pools and their replicas, storage used, and today's limit refusals."""
    pools = await services.serving.pools()

    def gather() -> dict[str, Any]:
        with session_scope(services.sessions) as session:
            return service_stats(session, pools=pools, in_flight=services.speech.in_flight)

    return respond(await asyncio.to_thread(gather))


@router.get("/users")
def list_users(
    _admin: AdminUser,
    services: ServicesDep,
    page: PageDep,
    search: Annotated[str | None, Query(max_length=320)] = None,
    role: Literal["user", "admin"] | None = None,
    status: Literal["active", "disabled"] | None = None,
) -> JSONResponse:
    """Accounts, newest first: ``search`` matches email, names or the id."""
    active = None if status is None else status == "active"
    limits = services.limits.current()
    with session_scope(services.sessions) as session:
        found, total = users.find(
            session, limit=page.limit, offset=page.offset, search=search, role=role, active=active
        )
        data = [users.public(user, limits) for user in found]
    return respond(data, meta={"pagination": page.pagination(total)})


@router.get("/users/{user_id}")
def get_user(user_id: str, _admin: AdminUser, services: ServicesDep) -> JSONResponse:
    """One account with the limits that hold for it."""
    with session_scope(services.sessions) as session:
        data = users.public(users.get(session, user_id), services.limits.current())
    return respond(data)


@router.patch("/users/{user_id}")
def change_user(
    user_id: str, data: users.UserChange, admin: AdminUser, services: ServicesDep
) -> JSONResponse:
    """Disable or enable an account (its sessions and API keys stop or work again on the
    next request, on every replica), change its role, or set its own quotas."""
    with session_scope(services.sessions) as session:
        user = users.change(session, actor=admin, user_id=user_id, data=data)
        body = users.public(user, services.limits.current())
    return respond(body, message="User updated")


@router.get("/config")
def get_config(_admin: AdminUser, services: ServicesDep) -> JSONResponse:
    """The runtime limits in force, and the values the service started with."""
    with session_scope(services.sessions) as session:
        current = services.limits.read(session)
    return respond(_config(current, services.limits.defaults, services.limits.ttl_s))


@router.put("/config")
def put_config(
    admin: AdminUser,
    services: ServicesDep,
    changes: Annotated[dict[str, int | None], Body(examples=[{"requests_per_minute": 200}])],
) -> JSONResponse:
    """Change runtime limits (a null restores the default). Validated as a whole, stored in
    the database, audited; every replica applies them within seconds."""
    live = services.limits
    with session_scope(services.sessions) as session:
        before = live.read(session)
        after = live.write(session, changes, actor_id=admin.id)
        diff = audit.diff(before.model_dump(), after.model_dump())
        if diff:
            audit.record(
                session,
                actor=admin,
                action="config.update",
                target_type="config",
                target_id="limits",
                changes=diff,
            )
    live.expire()
    return respond(_config(after, live.defaults, live.ttl_s), message="Configuration updated")


@router.get("/audit")
def list_audit(
    _admin: AdminUser,
    services: ServicesDep,
    page: PageDep,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor_id: Annotated[str | None, Query(max_length=32)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
) -> JSONResponse:
    """Every administrator's change, newest first."""
    with session_scope(services.sessions) as session:
        found, total = audit.entries(
            session,
            limit=page.limit,
            offset=page.offset,
            action=action,
            actor_id=actor_id,
            target_id=target_id,
        )
        data = [audit.public(entry) for entry in found]
    return respond(data, meta={"pagination": page.pagination(total)})


def _config(current: RuntimeLimits, defaults: RuntimeLimits, ttl_s: float) -> dict[str, Any]:
    return {
        "limits": current.model_dump(),
        "defaults": defaults.model_dump(),
        "applied_within_s": ttl_s,
    }
