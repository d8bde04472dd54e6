"""GET /api/v1/health: readiness of each part; 503 until every part is ready."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text

from voxify import __version__
from voxify.api.deps import ServicesDep
from voxify.api.envelope import envelope
from voxify.api.errors import error_response

router = APIRouter(prefix="/api/v1", tags=["health"])


async def _probe(check: Awaitable[object]) -> str:
    try:
        result = await check
    except Exception as exc:  # a health probe reports failures; it never raises them
        return f"error: {type(exc).__name__}: {exc}"[:300]
    return result if isinstance(result, str) else "ok"


@router.get("/health")
async def health(services: ServicesDep) -> JSONResponse:
    """Report database, blob store, synthesizer, job runner and embedder readiness.

    The parts are asked at once; blocking probes run on worker threads, the pools are awaited.
    """

    def database() -> None:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    checks = {
        "database": run_in_threadpool(database),
        "blob_store": run_in_threadpool(services.blobs.ping),
        "synthesizer": services.synthesis.check(),
        "job_runner": run_in_threadpool(services.launcher.check),
        "embedder": services.voiceprints_async.check(),
    }
    states = await asyncio.gather(*(_probe(check) for check in checks.values()))
    parts = dict(zip(checks, states, strict=True))
    ready = all(state == "ok" for state in parts.values())
    data = {"status": "ready" if ready else "degraded", "version": __version__, "parts": parts}
    if ready:
        return JSONResponse(envelope(data, message="All parts ready"))
    failing = ", ".join(name for name, state in parts.items() if state != "ok")
    response = error_response(503, "NOT_READY", f"Not ready: {failing}", details=parts)
    response.headers["Retry-After"] = "5"
    return response
