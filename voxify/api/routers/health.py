"""GET /api/v1/health: readiness of each part; 503 until every part is ready."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from voxify import __version__
from voxify.api.deps import ServicesDep
from voxify.api.envelope import envelope
from voxify.api.errors import error_response

router = APIRouter(prefix="/api/v1", tags=["health"])


def _probe(check: Callable[[], object]) -> str:
    try:
        result = check()
    except Exception as exc:  # a health probe reports failures; it never raises them
        return f"error: {type(exc).__name__}: {exc}"[:300]
    return result if isinstance(result, str) else "ok"


@router.get("/health")
def health(services: ServicesDep) -> JSONResponse:
    """Report database, blob store, synthesizer, job runner and embedder readiness."""

    def database() -> None:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    parts = {
        "database": _probe(database),
        "blob_store": _probe(services.blobs.ping),
        "synthesizer": _probe(services.synthesis.check),
        "job_runner": _probe(services.launcher.check),
        "embedder": _probe(services.voiceprints.check),
    }
    ready = all(state == "ok" for state in parts.values())
    data = {"status": "ready" if ready else "degraded", "version": __version__, "parts": parts}
    if ready:
        return JSONResponse(envelope(data, message="All parts ready"))
    failing = ", ".join(name for name, state in parts.items() if state != "ok")
    response = error_response(503, "NOT_READY", f"Not ready: {failing}", details=parts)
    response.headers["Retry-After"] = "5"
    return response
