"""The OpenAPI schema says what the routes really answer.

Routes answer through ``respond()`` and the error handlers, not through response models, so
FastAPI alone would document every JSON answer as ``{}`` and every bad request as its own
``{"detail": [...]}``. The envelope is applied once, so it is documented once, here: errors
are declared for every route (the envelope, or OpenAI's shape under ``/v1/``), and a JSON
success of ``/api/`` left undocumented is documented as the envelope.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import models_json_schema

from voxify.api.envelope import Envelope, ErrorEnvelope
from voxify.audio.encode import FORMATS

REF = "#/components/schemas/{model}"
ENVELOPED_PREFIX = "/api/"
JSON = "application/json"

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorEnvelope, "description": "Bad request, credentials or limits"},
    "5XX": {"model": ErrorEnvelope, "description": "Unavailable (Retry-After) or failed"},
}


class OpenAIErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str
    type: str
    param: str | None
    code: str


class OpenAIError(BaseModel):
    """An error as OpenAI's API writes it (``voxify.api.errors.openai_error``)."""

    model_config = ConfigDict(extra="forbid")

    error: OpenAIErrorBody


OPENAI_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": OpenAIError, "description": "Bad request, credentials or limits"},
    "5XX": {"model": OpenAIError, "description": "Unavailable (Retry-After) or failed"},
}

_BYTES = {"schema": {"type": "string", "format": "binary"}}
# Each event (OpenAPI 3.2's itemSchema, as FastAPI writes its own streams): one JSON object.
_EVENTS = {
    "text/event-stream": {
        "itemSchema": {
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": {
                    "type": "string",
                    "contentMediaType": JSON,
                    "contentSchema": {"type": "object"},
                },
                "event": {"type": "string"},
                "id": {"type": "string"},
                "retry": {"type": "integer", "minimum": 0},
            },
        }
    }
}


def audio_answer(
    description: str, *, media_types: Iterable[str] = (), events: bool = False
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that answers audio: in ``media_types``, else in any output
    format; with ``events``, Server-Sent Events too (when the client asks for them)."""
    types = media_types or [media.split(";")[0] for media in FORMATS.values()]
    content: dict[str, Any] = dict.fromkeys(types, _BYTES)
    if events:
        content.update(_EVENTS)
    return {200: {"description": description, "content": content}}


def events_answer(description: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that answers with Server-Sent Events."""
    return {200: {"description": description, "content": _EVENTS}}


def document_envelope(app: FastAPI) -> None:
    """Make ``app.openapi()`` document the envelope on JSON successes under ``/api/``."""
    generate = app.openapi
    documented: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        schema = generate()  # FastAPI's, cached until the routes change
        if not any(schema is done for done in documented):
            _document(schema)
            documented[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document(schema: dict[str, Any]) -> None:
    _, definitions = models_json_schema([(Envelope, "serialization")], ref_template=REF)
    schema.setdefault("components", {}).setdefault("schemas", {}).update(definitions["$defs"])
    envelope_ref = {"$ref": REF.format(model=Envelope.__name__)}
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(ENVELOPED_PREFIX):
            continue
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get(JSON)
                if status.startswith("2") and media is not None and not media.get("schema"):
                    media["schema"] = envelope_ref
