"""The response envelope every JSON answer wears, and the pagination object."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict

MAX_PAGE_SIZE = 100
# Deeper than any listing goes; keeps every offset inside each database's 64-bit integers.
MAX_OFFSET = 1_000_000_000


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


_ENCODERS: dict[Any, Any] = {datetime: _iso}


class ErrorBody(BaseModel):
    """What went wrong: a stable ``code``, a message for people, and details for programs."""

    model_config = ConfigDict(extra="forbid")

    code: str
    message: str
    details: Any


class Envelope(BaseModel):
    """The shape ``envelope()`` gives a successful JSON answer (documented in OpenAPI)."""

    model_config = ConfigDict(extra="forbid")

    success: Literal[True]
    data: Any
    message: str | None
    error: None
    meta: dict[str, Any]
    timestamp: AwareDatetime


class ErrorEnvelope(BaseModel):
    """The shape of every error answer outside OpenAI's door (documented in OpenAPI)."""

    model_config = ConfigDict(extra="forbid")

    success: Literal[False]
    data: None
    message: str
    error: ErrorBody
    meta: dict[str, Any]
    timestamp: AwareDatetime


def now_iso() -> str:
    """The envelope timestamp."""
    return _iso(datetime.now(UTC))


def envelope(
    data: Any = None,
    *,
    message: str | None = None,
    meta: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the envelope: success, data, message, error, meta, timestamp."""
    if isinstance(data, BaseModel):
        data = data.model_dump()
    elif isinstance(data, list):
        data = [item.model_dump() if isinstance(item, BaseModel) else item for item in data]
    return {
        "success": error is None,
        "data": jsonable_encoder(data, custom_encoder=_ENCODERS),
        "message": message,
        "error": error,
        "meta": jsonable_encoder(meta or {}, custom_encoder=_ENCODERS),
        "timestamp": now_iso(),
    }


def respond(
    data: Any = None,
    *,
    message: str | None = None,
    meta: dict[str, Any] | None = None,
    status_code: int = 200,
) -> JSONResponse:
    """A successful JSON response in the envelope."""
    return JSONResponse(envelope(data, message=message, meta=meta), status_code=status_code)


@dataclass(frozen=True)
class Page:
    """A requested page, accepted as limit/offset or page/page_size."""

    limit: int
    offset: int

    def pagination(self, total: int) -> dict[str, Any]:
        """Both pagination styles' fields for ``total`` matching items."""
        page = self.offset // self.limit + 1
        total_pages = math.ceil(total / self.limit) if total else 0
        return {
            "total_count": total,
            "limit": self.limit,
            "offset": self.offset,
            "has_more": self.offset + self.limit < total,
            "page": page,
            "page_size": self.limit,
            "total_pages": total_pages,
            "has_next": self.offset + self.limit < total,
            "has_prev": self.offset > 0,
        }
