"""JSON logs: one line per event, with the request id of the work it belongs to.

Events carry named fields, never free text built from user input: a request line holds the
route template (not the path or the query, where text and ids of other shapes could travel),
and any field whose name says it may hold a secret or a user's text is dropped before it is
written, whoever logs it.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from voxify.observability.context import current_request_id

EVENTS = logging.getLogger("voxify.events")
# Field names that are never written (a secret, a credential, or a user's words).
_SECRET_PARTS = ("password", "token", "secret", "authorization", "api_key", "apikey", "cookie")
_TEXT_FIELDS = frozenset({"text", "text_content", "input", "transcript", "prompt"})
_RESERVED = frozenset(vars(logging.makeLogRecord({})))


def safe_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` without anything that may be a secret or a user's text."""
    return {
        key: value
        for key, value in fields.items()
        if key.lower() not in _TEXT_FIELDS
        and not any(part in key.lower() for part in _SECRET_PARTS)
    }


def log_event(event: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Write one event with its fields (each a JSON value) under the current request id."""
    if EVENTS.isEnabledFor(level):
        fields.setdefault("request_id", current_request_id())  # as it is now, not when written
        EVENTS.log(level, event, extra={"fields": safe_fields(fields)})


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "event", "request_id", ...fields}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        line.update(getattr(record, "fields", None) or {})
        extra = {k: v for k, v in vars(record).items() if k not in _RESERVED and k != "fields"}
        line.update(safe_fields({k: v for k, v in extra.items() if k not in line}))
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_json_logging(level: str | int = "INFO") -> None:
    """Send Voxify's loggers to stderr as JSON lines (once per process)."""
    logger = logging.getLogger("voxify")
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
