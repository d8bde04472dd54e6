"""create_app: the FastAPI application, built around injected Services."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from voxify import __version__
from voxify.api.context import Services
from voxify.api.deps import scoped
from voxify.api.errors import install_error_handlers
from voxify.api.metrics import ApiMetrics
from voxify.api.middleware import BodyLimitMiddleware
from voxify.api.openapi import ERROR_RESPONSES, OPENAI_ERROR_RESPONSES, document_envelope
from voxify.api.routers import (
    admin,
    api_keys,
    auth,
    clones,
    files,
    health,
    jobs,
    openai,
    progress_ws,
    samples,
    stats,
    stream,
    tts,
    voices,
)
from voxify.api.studio import install_studio
from voxify.auth.keys import Scope

JSON_BODY_LIMIT = 1024 * 1024
MULTIPART_SLACK = 64 * 1024  # form fields and part headers beside a maximal file


def create_app(services: Services, *, echo_request_id: bool = True) -> FastAPI:
    """The Voxify HTTP API over the given services.

    ``echo_request_id``: answer with the ``X-Request-ID`` header (off behind Ray Serve's
    proxy, which gives every request that header, the caller's or its own, and answers with it).
    """
    app = FastAPI(
        title="Voxify",
        version=__version__,
        description="Voice-cloning text-to-speech: REST, streaming and jobs; the studio page at /.",
        responses=ERROR_RESPONSES,
    )
    app.state.services = services
    install_error_handlers(app)
    speech = [Depends(scoped(Scope.SYNTHESIZE))]
    voice_work = [Depends(scoped(Scope.VOICES))]
    either = [Depends(scoped(Scope.SYNTHESIZE, Scope.VOICES))]
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(api_keys.router)
    app.include_router(jobs.router, prefix="/api/v1/job", dependencies=either)
    app.include_router(jobs.router, prefix="/api/v1/jobs", dependencies=either)
    # Authenticated inside: a browser's WebSocket carries its token in the URL or subprotocol.
    app.include_router(progress_ws.router, prefix="/api/v1/job")
    app.include_router(progress_ws.router, prefix="/api/v1/jobs")
    app.include_router(tts.router, dependencies=speech)
    app.include_router(stream.router, dependencies=speech)
    app.include_router(files.router, dependencies=speech)
    app.include_router(voices.router, dependencies=either)
    app.include_router(samples.router, dependencies=voice_work)
    app.include_router(clones.router, dependencies=voice_work)
    app.include_router(openai.router, dependencies=speech, responses=OPENAI_ERROR_RESPONSES)
    app.include_router(stats.router, dependencies=either)
    app.include_router(admin.router)  # administrators only (checked per route)
    install_studio(app)
    document_envelope(app)
    ApiMetrics(
        services.sessions, log_requests=services.settings.log_requests, echo=echo_request_id
    ).install(app)
    app.add_middleware(
        BodyLimitMiddleware,
        json_bytes=JSON_BODY_LIMIT,
        upload_bytes=lambda: services.limits.current().max_upload_bytes + MULTIPART_SLACK,
    )
    if services.settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=services.settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    return app
