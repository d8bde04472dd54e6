"""Request-scoped dependencies: services, the current user, the requested page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Query, Request

from voxify import limits
from voxify.api.context import Services
from voxify.api.envelope import MAX_OFFSET, MAX_PAGE_SIZE, Page
from voxify.auth import keys
from voxify.auth.keys import Scope
from voxify.auth.service import authenticate
from voxify.db.models import User
from voxify.db.session import session_scope
from voxify.errors import AuthError, Forbidden, InvalidParameter


def get_services(request: Request) -> Services:
    """The Services this app was built with."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def bearer_token(request: Request) -> str:
    """The token of an ``Authorization: Bearer`` header."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError(
            "Missing credentials: send 'Authorization: Bearer <access token or API key>' "
            "or 'X-API-Key: <API key>'"
        )
    return token.strip()


def credential(request: Request) -> str:
    """An ``X-API-Key`` header, else the Bearer token (a JWT or an API key)."""
    key = request.headers.get("x-api-key", "").strip()
    return key or bearer_token(request)


def current_user(request: Request, services: ServicesDep) -> User:
    """The authenticated user (by access token or API key); also counts the request against
    the owner's per-minute limit. ``request.state.scopes`` holds a key's scopes (None for a
    signed-in session, which may do all its role allows)."""
    user, request.state.scopes = authenticate_credential(services, credential(request))
    request.state.user_id = user.id  # for the request's log line
    return user


def authenticate_credential(services: Services, token: str) -> tuple[User, frozenset[Scope] | None]:
    """The user of an access token or API key and the key's scopes (None: a session), the
    request counted against the user's per-minute limit."""
    scopes: frozenset[Scope] | None = None
    with session_scope(services.sessions) as session:
        if keys.looks_like_key(token):
            user, scopes = keys.authenticate_key(session=session, key=token)
        else:
            user = authenticate(session=session, settings=services.settings, access_token=token)
        limits.hit(
            session=session,
            key=limits.request_key(user.id),
            limit=services.limits.for_user(user).requests_per_minute,
            window_s=60,
        )
    return user, scopes


CurrentUser = Annotated[User, Depends(current_user)]


def session_user(request: Request, user: CurrentUser) -> User:
    """The current user, signed in with a password session (not an API key)."""
    if request.state.scopes is not None:
        raise Forbidden("This needs a signed-in session; API keys cannot do it")
    return user


SessionUser = Annotated[User, Depends(session_user)]


def scoped(*allowed: Scope) -> Callable[..., User]:
    """A dependency: the current user, whose key (if any) holds one of ``allowed``."""

    def check(request: Request, user: CurrentUser) -> User:
        require_scope(request.state.scopes, *allowed)
        return user

    return check


def require_scope(scopes: frozenset[Scope] | None, *allowed: Scope) -> None:
    """Forbidden unless the credential is a session (None) or a key holding one of
    ``allowed``."""
    if scopes is not None and scopes.isdisjoint(allowed):
        needed = " or ".join(f"'{scope}'" for scope in allowed)
        raise Forbidden(f"This API key lacks the {needed} scope")


def admin_user(request: Request, user: CurrentUser) -> User:
    """The current user, who must be an administrator (and, with a key, hold its admin scope)."""
    scopes: frozenset[Scope] | None = request.state.scopes
    if user.role != "admin" or (scopes is not None and Scope.ADMIN not in scopes):
        raise Forbidden("Administrator role required")
    return user


AdminUser = Annotated[User, Depends(admin_user)]


def page_params(
    limit: Annotated[int | None, Query(ge=1, le=MAX_PAGE_SIZE)] = None,
    offset: Annotated[int | None, Query(ge=0, le=MAX_OFFSET)] = None,
    page: Annotated[int | None, Query(ge=1, le=MAX_OFFSET // MAX_PAGE_SIZE)] = None,
    page_size: Annotated[int | None, Query(ge=1, le=MAX_PAGE_SIZE)] = None,
) -> Page:
    """Accept limit/offset or page/page_size (not a mix of offset and page)."""
    if page is not None and offset is not None:
        raise InvalidParameter("Use either offset or page, not both")
    size = page_size or limit or 20
    if page is not None:
        return Page(limit=size, offset=(page - 1) * size)
    return Page(limit=size, offset=offset or 0)


PageDep = Annotated[Page, Depends(page_params)]
