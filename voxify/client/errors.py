"""Typed exceptions from the envelope's error codes: catch what you can act on."""

from __future__ import annotations

from typing import Any

import httpx


class ApiError(Exception):
    """An error answer from Voxify: its HTTP status, stable code, message and details."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{message} ({code}, HTTP {status})")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.retry_after = retry_after


class BadRequest(ApiError):
    """400/422: the request itself is wrong (validation, impossible options, bad audio)."""


class AuthenticationError(ApiError):
    """401: no, a wrong, an expired or a revoked credential."""


class PermissionDenied(ApiError):
    """403: signed in, but not allowed (a key without the scope, not an administrator)."""


class NotFound(ApiError):
    """404: no such thing, or not yours."""


class Conflict(ApiError):
    """409: the thing is not in a state that allows this (or already exists)."""


class PayloadTooLarge(ApiError):
    """413: the upload is larger than the service accepts."""


class RateLimited(ApiError):
    """429: too many requests this minute; ``retry_after`` says when to try again."""


class QuotaExceeded(RateLimited):
    """429 QUOTA_EXCEEDED: today's syntheses are used up."""


class ServiceUnavailable(ApiError):
    """503: the service is busy or a part of it is down; ``retry_after`` says when."""


class ServerError(ApiError):
    """Any other 5xx."""


class ConnectionFailed(Exception):
    """The service could not be reached."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: BadRequest,
    429: RateLimited,
    503: ServiceUnavailable,
}


def retry_after(response: httpx.Response) -> float | None:
    """The Retry-After header in seconds, if it is a number."""
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def error_from(response: httpx.Response) -> ApiError:
    """The exception an error response stands for (envelope or OpenAI shape, else its text)."""
    code, message, details = f"HTTP_{response.status_code}", response.reason_phrase, None
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or code).upper()
        message = str(error.get("message") or message)
        details = error.get("details")
    elif response.text:
        message = response.text[:500]
    if code == "QUOTA_EXCEEDED":
        kind: type[ApiError] = QuotaExceeded
    else:
        fallback = ServerError if response.status_code >= 500 else ApiError
        kind = _BY_STATUS.get(response.status_code, fallback)
    return kind(response.status_code, code, message, details, retry_after(response))


class JobFailed(Exception):
    """A job the client waited for ended without succeeding; ``job`` is its final state."""

    def __init__(self, job: dict[str, Any]) -> None:
        reason = job.get("error_message") or job.get("message") or job.get("status")
        super().__init__(f"Job {job.get('id')} {job.get('status')}: {reason}")
        self.job = job
