"""Request-scoped dependencies: services, the current user, the requested page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from voxify import limits
from voxify.api.context import Services
from voxify.api.envelope import MAX_PAGE_SIZE, Page
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
        raise AuthError("Missing bearer token: send 'Authorization: Bearer <access_token>'")
    return token.strip()


def current_user(request: Request, services: ServicesDep) -> User:
    """The authenticated user; also counts the request against the per-minute limit."""
    token = bearer_token(request)
    with session_scope(services.sessions) as session:
        user = authenticate(session=session, settings=services.settings, access_token=token)
        limits.hit(
            session=session,
            key=f"req:{user.id}",
            limit=services.settings.requests_per_minute,
            window_s=60,
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def admin_user(user: CurrentUser) -> User:
    """The current user, who must be an administrator."""
    if user.role != "admin":
        raise Forbidden("Administrator role required")
    return user


AdminUser = Annotated[User, Depends(admin_user)]


def page_params(
    limit: Annotated[int | None, Query(ge=1, le=MAX_PAGE_SIZE)] = None,
    offset: Annotated[int | None, Query(ge=0)] = None,
    page: Annotated[int | None, Query(ge=1)] = None,
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
