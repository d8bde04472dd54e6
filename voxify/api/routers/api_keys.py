"""POST/GET/DELETE /api/v1/auth/api-keys: a signed-in person manages their API keys.

Keys cannot manage keys: a leaked key must not be able to mint a replacement for itself.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from voxify.api.deps import ServicesDep, SessionUser
from voxify.api.envelope import respond
from voxify.auth import keys
from voxify.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from voxify.db.models import ApiKey, utcnow
from voxify.db.session import session_scope

router = APIRouter(prefix="/api/v1/auth/api-keys", tags=["auth"])


def key_public(row: ApiKey) -> ApiKeyPublic:
    """The listable view of a key: never its secret or hash."""
    return ApiKeyPublic(
        key_id=row.id,
        name=row.name,
        prefix=f"{keys.KEY_PREFIX}{row.prefix}",
        scopes=list(row.scopes),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
    )


@router.post("", status_code=201)
def create_api_key(data: ApiKeyCreate, user: SessionUser, services: ServicesDep) -> JSONResponse:
    """Issue a key; the secret is in this answer only."""
    expires_at = utcnow() + timedelta(days=data.expires_in_days) if data.expires_in_days else None
    with session_scope(services.sessions) as session:
        issued = keys.create_key(
            session=session, user=user, name=data.name, scopes=data.scopes, expires_at=expires_at
        )
        created = ApiKeyCreated(**key_public(issued.row).model_dump(), key=issued.key)
    return respond(
        created, message="API key created: store it now, it is not shown again", status_code=201
    )


@router.get("")
def list_api_keys(user: SessionUser, services: ServicesDep) -> JSONResponse:
    """The caller's keys (names, prefixes, scopes, dates; never secrets)."""
    with session_scope(services.sessions) as session:
        rows = [key_public(row) for row in keys.list_keys(session=session, user_id=user.id)]
    return respond(rows, meta={"total_count": len(rows)})


@router.delete("/{key_id}")
def delete_api_key(key_id: str, user: SessionUser, services: ServicesDep) -> JSONResponse:
    """Revoke a key: refused from the next request on, on every replica."""
    with session_scope(services.sessions) as session:
        keys.delete_key(session=session, user_id=user.id, key_id=key_id)
    return respond({"key_id": key_id, "deleted": True}, message="API key revoked")
