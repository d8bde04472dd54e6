"""Voxify's errors as gRPC statuses: the code from the REST status, the envelope's code in the
details and in the trailing metadata."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import grpc
from pydantic import ValidationError

from voxify.errors import RateLimited, Unavailable, ValidationFailed, VoxifyError

ERROR_CODE_KEY = "voxify-error-code"
RETRY_AFTER_KEY = "retry-after"

_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.FAILED_PRECONDITION,  # InvalidState: not in a state that allows it
    422: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
}


class Context(Protocol):
    """What the door needs of a call's context: grpc's ServicerContext and Ray Serve's
    RayServegRPCContext both have it."""

    def invocation_metadata(self) -> Sequence[tuple[str, str | bytes]] | None: ...

    def set_code(self, code: grpc.StatusCode) -> None: ...

    def set_details(self, details: str) -> None: ...

    def set_trailing_metadata(self, trailing_metadata: list[tuple[str, str]]) -> None: ...


@dataclass(frozen=True)
class Refusal:
    """A refused call as gRPC tells it."""

    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, str], ...]


def refusal(exc: VoxifyError) -> Refusal:
    """The status a Voxify error answers with: ``CODE: message`` in the details."""
    trailing = [(ERROR_CODE_KEY, exc.code)]
    if isinstance(exc, RateLimited | Unavailable):
        trailing.append((RETRY_AFTER_KEY, str(exc.retry_after)))
    code = _CODES.get(exc.status_code, grpc.StatusCode.INTERNAL)
    return Refusal(code, f"{exc.code}: {exc.message}", tuple(trailing))


def invalid(exc: ValidationError) -> ValidationFailed:
    """A message that broke the REST schema's rules, as the REST door reports it."""
    details = [
        {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]
    summary = "; ".join(f"{d['field'] or 'request'}: {d['message']}" for d in details[:5])
    return ValidationFailed(f"Invalid request: {summary}", details=details)


def refuse(context: Context, exc: VoxifyError) -> grpc.StatusCode:
    """Set the refusal of ``exc`` on the call's context; returns its status code."""
    answer = refusal(exc)
    context.set_code(answer.code)
    context.set_details(answer.details)
    context.set_trailing_metadata(list(answer.trailing_metadata))
    return answer.code
