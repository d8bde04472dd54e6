"""POST /api/v1/auth/register, /login, /refresh (seed 001 Authentication)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from voxify import limits
from voxify.api.deps import ServicesDep
from voxify.api.envelope import respond
from voxify.auth import service
from voxify.auth.schemas import RefreshRequest, UserLogin, UserRegister
from voxify.db.session import session_scope
from voxify.errors import AuthError

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
LOGIN_ATTEMPTS_PER_MINUTE = 20


@router.post("/register", status_code=201)
def register(data: UserRegister, services: ServicesDep) -> JSONResponse:
    """Create an account."""
    with session_scope(services.sessions) as session:
        user = service.register(session=session, settings=services.settings, data=data)
        public = service.user_public(user)
    return respond(public, message="User registration successful", status_code=201)


@router.post("/login")
def login(data: UserLogin, request: Request, services: ServicesDep) -> JSONResponse:
    """Exchange email and password for an access/refresh token pair."""
    client = request.client.host if request.client else "unknown"
    with session_scope(services.sessions) as session:
        limits.hit(
            session=session, key=f"login:{client}", limit=LOGIN_ATTEMPTS_PER_MINUTE, window_s=60
        )
    with session_scope(services.sessions) as session:
        tokens = service.login(
            session=session, settings=services.settings, email=data.email, password=data.password
        )
    return respond(tokens, message="Login successful")


@router.post("/refresh")
def refresh(
    request: Request, services: ServicesDep, data: RefreshRequest | None = None
) -> JSONResponse:
    """Exchange a refresh token (body or Bearer header) for a new pair."""
    token = data.refresh_token if data and data.refresh_token else None
    if token is None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else None
    if not token:
        raise AuthError("Send the refresh token in the body or as a Bearer token")
    with session_scope(services.sessions) as session:
        tokens = service.refresh(session=session, settings=services.settings, refresh_token=token)
    return respond(tokens, message="Token refreshed")
