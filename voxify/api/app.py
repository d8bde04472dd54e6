"""create_app: the FastAPI application, built around injected Services."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from voxify import __version__
from voxify.api.context import Services
from voxify.api.errors import install_error_handlers
from voxify.api.metrics import ApiMetrics
from voxify.api.middleware import BodyLimitMiddleware
from voxify.api.routers import auth, clones, files, health, jobs, samples, stream, tts, voices

JSON_BODY_LIMIT = 1024 * 1024
MULTIPART_SLACK = 64 * 1024  # form fields and part headers beside a maximal file


def create_app(services: Services) -> FastAPI:
    """The Voxify HTTP API over the given services."""
    app = FastAPI(
        title="Voxify",
        version=__version__,
        description="Voice-cloning text-to-speech: REST, streaming and jobs.",
    )
    app.state.services = services
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(jobs.router, prefix="/api/v1/job")
    app.include_router(jobs.router, prefix="/api/v1/jobs")
    app.include_router(tts.router)
    app.include_router(stream.router)
    app.include_router(files.router)
    app.include_router(voices.router)
    app.include_router(samples.router)
    app.include_router(clones.router)
    ApiMetrics().install(app)
    app.add_middleware(
        BodyLimitMiddleware,
        json_bytes=JSON_BODY_LIMIT,
        upload_bytes=services.settings.max_upload_bytes + MULTIPART_SLACK,
    )
    if services.settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=services.settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    return app
