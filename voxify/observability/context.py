"""The request id of the work in progress, carried across threads, Ray calls and job tasks.

A request gets an id at the door (its ``X-Request-ID`` header when it is well formed, else a
fresh one); the id is stored on the jobs the request creates and set again wherever that
work continues, so one job's story can be found by its id in every process's log.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_REQUEST_ID: ContextVar[str | None] = ContextVar("voxify_request_id", default=None)
_VALID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def new_request_id() -> str:
    """A fresh id such as ``req_5f0c9a7e1b2d4c6e8a0f1b3d``."""
    return f"req_{secrets.token_hex(12)}"


def accept_request_id(offered: str | None) -> str:
    """The caller's id when it is a plain token of 8-64 characters, else a fresh one (an id
    ends up in logs: nothing else is let in)."""
    if offered and _VALID.match(offered):
        return offered
    return new_request_id()


def current_request_id() -> str | None:
    """The id of the request (or job) this code runs for, if any."""
    return _REQUEST_ID.get()


@contextmanager
def request_context(request_id: str | None) -> Iterator[str | None]:
    """Run the block as part of ``request_id``'s work."""
    token = _REQUEST_ID.set(request_id)
    try:
        yield request_id
    finally:
        _REQUEST_ID.reset(token)


def set_request_id(request_id: str | None) -> None:
    """Make ``request_id`` current for the rest of this context (a task's own context)."""
    _REQUEST_ID.set(request_id)
