"""The studio page at ``/``: static files shipped in the package, and the headers a page that
holds tokens needs (a strict Content-Security-Policy, no sniffing, no referrer)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STUDIO_DIR = Path(__file__).resolve().parent.parent / "studio"
STUDIO_PREFIX = "/studio"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob: data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
EVERY_RESPONSE = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
PAGE_RESPONSE = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"microphone=(self), camera=(), geolocation=()"),
    (b"cache-control", b"no-cache"),  # revalidated by ETag: a new release shows at once
]


def install_studio(app: FastAPI) -> None:
    """Serve the studio at ``/`` and its assets under ``/studio``; the API keeps its paths."""
    index = STUDIO_DIR / "index.html"

    @app.get("/", include_in_schema=False)
    def studio_page() -> FileResponse:
        return FileResponse(index, media_type="text/html; charset=utf-8")

    app.mount(STUDIO_PREFIX, StaticFiles(directory=STUDIO_DIR), name="studio")
    app.add_middleware(SecurityHeadersMiddleware)


class SecurityHeadersMiddleware:
    """Add the headers above: every response gets the first set, the page and its assets all."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        page = path == "/" or path.startswith(STUDIO_PREFIX + "/")
        extra = EVERY_RESPONSE + PAGE_RESPONSE if page else EVERY_RESPONSE

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in extra if name not in names
                ]
            await send(message)

        await self.app(scope, receive, with_headers)
