"""The one place errors become HTTP: every failure answers in the envelope."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from voxify.api.envelope import envelope
from voxify.errors import RateLimited, Unavailable, VoxifyError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}


# The OpenAI-compatible door answers errors in OpenAI's shape, so its SDK raises its types.
OPENAI_PREFIX = "/v1/"
_OPENAI_TYPES = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
    *,
    request: Request | None = None,
) -> JSONResponse:
    """An error answer in the envelope (in OpenAI's shape under /v1/)."""
    if request is not None and _openai(request):
        body = openai_error(status_code, code, message, details)
    else:
        error = {"code": code, "message": message, "details": details}
        body = envelope(message=message, error=error)
    return JSONResponse(body, status_code=status_code, headers=dict(headers or {}))


def _openai(request: Request) -> bool:
    return request.url.path.startswith(OPENAI_PREFIX)


def openai_error(status_code: int, code: str, message: str, details: Any) -> dict[str, Any]:
    """``{"error": {message, type, param, code}}`` as OpenAI's API writes it."""
    if status_code >= 500:
        kind = "server_error"
    elif code == "QUOTA_EXCEEDED":
        kind = "insufficient_quota"
    else:
        kind = _OPENAI_TYPES.get(status_code, "invalid_request_error")
    param = None
    if isinstance(details, dict):
        param = details.get("param")
    elif isinstance(details, list) and details and isinstance(details[0], dict):
        param = details[0].get("field") or None
    return {"error": {"message": message, "type": kind, "param": param, "code": code.lower()}}


async def _voxify_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VoxifyError)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited | Unavailable):
        headers["Retry-After"] = str(exc.retry_after)
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if exc.status_code >= 500:
        log.error("%s: %s", exc.code, exc.message)
    return error_response(
        exc.status_code, exc.code, exc.message, exc.details, headers, request=request
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    # A RequestValidationError from FastAPI's parsing, or a pydantic ValidationError from a
    # schema a route builds itself (form fields): both are the caller's bad input.
    assert isinstance(exc, RequestValidationError | ValidationError)
    details = [
        {
            "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
            "message": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]
    summary = "; ".join(f"{d['field'] or 'body'}: {d['message']}" for d in details[:5])
    status = 400 if _openai(request) else 422  # OpenAI answers bad parameters with 400
    message = f"Invalid request: {summary}"
    return error_response(status, "VALIDATION_ERROR", message, details, request=request)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"HTTP_{exc.status_code}")
    return error_response(
        exc.status_code, code, str(exc.detail), headers=exc.headers, request=request
    )


DATABASE_RETRY_S = 5


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    # The metadata database is unreachable (a restart, a failover, a network cut): the
    # transaction rolled back, so nothing was half-written; the caller retries.
    log.error("database unavailable: %s", type(exc).__name__)
    return error_response(
        503,
        "SERVICE_UNAVAILABLE",
        "The database is unavailable; retry shortly",
        {"retry_after": DATABASE_RETRY_S},
        {"Retry-After": str(DATABASE_RETRY_S)},
        request=request,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "INTERNAL_ERROR", "Internal server error", request=request)


def install_error_handlers(app: FastAPI) -> None:
    """Map every error class to the envelope (Starlette looks handlers up by class MRO)."""
    app.add_exception_handler(VoxifyError, _voxify_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for lost in (OperationalError, InterfaceError, DisconnectionError):
        app.add_exception_handler(lost, _database_down)
    app.add_exception_handler(Exception, _unexpected)
