"""POST /api/v1/auth/register, /login, /refresh (seed 001 Authentication), /logout, /password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from voxify import limits
from voxify.api.deps import ServicesDep, SessionUser
from voxify.api.envelope import respond
from voxify.auth import service
from voxify.auth.keys import looks_like_key
from voxify.auth.schemas import (
    LogoutRequest,
    PasswordChange,
    RefreshRequest,
    UserLogin,
    UserRegister,
)
from voxify.db.session import session_scope
from voxify.errors import AuthError, Forbidden

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
LOGIN_ATTEMPTS_PER_MINUTE = 20
PASSWORD_ATTEMPTS_PER_MINUTE = 5  # a stolen access token must not brute-force the password


@router.post("/register", status_code=201)
def register(data: UserRegister, services: ServicesDep) -> JSONResponse:
    """Create an account."""
    with session_scope(services.sessions) as session:
        user = service.register(session=session, settings=services.settings, data=data)
        public = service.user_public(user)
    return respond(public, message="User registration successful", status_code=201)


@router.post("/login")
def login(data: UserLogin, request: Request, services: ServicesDep) -> JSONResponse:
    """Exchange email and password for an access/refresh token pair (a new session)."""
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
    """Exchange a refresh token (body or Bearer header) for a new pair; the one sent is spent,
    and sending it again ends its session."""
    token = _token(request, data.refresh_token if data else None)
    with session_scope(services.sessions) as session:
        tokens = service.refresh(session=session, settings=services.settings, refresh_token=token)
    return respond(tokens, message="Token refreshed")


@router.post("/logout")
def logout(
    request: Request, services: ServicesDep, data: LogoutRequest | None = None
) -> JSONResponse:
    """End the session of the refresh token in the body, else of the Bearer token;
    ``all_sessions``: every session of the account and every access token issued so far."""
    data = data or LogoutRequest()
    token = _token(request, data.refresh_token)
    with session_scope(services.sessions) as session:
        ended = service.logout(
            session=session, settings=services.settings, token=token, everywhere=data.all_sessions
        )
    return respond(ended, message="Signed out")


@router.post("/password")
def change_password(data: PasswordChange, user: SessionUser, services: ServicesDep) -> JSONResponse:
    """Change the password (the current one is required): every other session and access token
    ends, API keys too when asked; the answer is the caller's new session."""
    with session_scope(services.sessions) as session:
        limits.hit(
            session=session,
            key=f"password:{user.id}",
            limit=PASSWORD_ATTEMPTS_PER_MINUTE,
            window_s=60,
        )
    with session_scope(services.sessions) as session:
        changed = service.change_password(
            session=session,
            settings=services.settings,
            user_id=user.id,
            current_password=data.current_password,
            new_password=data.new_password,
            revoke_api_keys=data.revoke_api_keys,
        )
    return respond(changed, message="Password changed; every other session was signed out")


def _token(request: Request, body_token: str | None) -> str:
    """A token from the body, else the Bearer header's; API keys have no session."""
    token = body_token
    if not token:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else None
    if not token:
        raise AuthError("Send the refresh token in the body or as a Bearer token")
    if looks_like_key(token):
        raise Forbidden("API keys have no session: delete the key to revoke it")
    return token
