"""What each request leaves behind: Prometheus metrics (requests by route, status and
latency), a request id (``X-Request-ID``, accepted from the caller or made), and one JSON log
line. ``GET /metrics`` serves these with Voxify's own metrics (voxify/observability)."""

from __future__ import annotations

import time

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voxify.admin.stats import job_counts
from voxify.db.session import session_scope
from voxify.observability import metrics as domain
from voxify.observability.context import accept_request_id, request_context
from voxify.observability.logs import log_event
from voxify.status import JobStatus, JobType


class ApiMetrics:
    """Observes an app's requests and serves its process's metrics at GET /metrics."""

    def __init__(
        self, sessions: sessionmaker[Session], *, log_requests: bool = True, echo: bool = True
    ) -> None:
        self.sessions = sessions
        self.log_requests = log_requests
        self.echo = echo  # answer with X-Request-ID

    def install(self, app: FastAPI) -> None:
        """Observe every request and serve GET /metrics."""
        app.add_middleware(_Observe, metrics=self)
        app.add_api_route("/metrics", self._expose, methods=["GET"], include_in_schema=False)

    def _expose(self) -> Response:
        refresh_job_gauges(self.sessions)
        return Response(generate_latest(domain.REGISTRY), media_type=CONTENT_TYPE_LATEST)


def refresh_job_gauges(sessions: sessionmaker[Session]) -> None:
    """Set ``voxify_jobs{type,status}`` from the database (every type and status, zeros
    included, so a state that empties reads 0 rather than its last value)."""
    with session_scope(sessions) as session:
        counts = {(row["type"], row["status"]): row["count"] for row in job_counts(session)}
    for job_type in JobType:
        for status in JobStatus:
            domain.JOBS.set(counts.get((job_type, status), 0), type=job_type, status=status)


class _Observe:
    """Pure ASGI: a request id for the request, its time to first byte by route, its log line."""

    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        offered = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = accept_request_id(offered)
        if scope["type"] == "websocket":
            with request_context(request_id):
                await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering
        elapsed: float | None = None

        async def observed_send(message: Message) -> None:
            nonlocal status, elapsed
            if message["type"] == "http.response.start":
                status, elapsed = message["status"], time.perf_counter() - start
            if message["type"] == "http.response.start" and self.metrics.echo:
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode("ascii")),
                ]
            await send(message)

        try:
            with request_context(request_id):
                await self.app(scope, receive, observed_send)
        finally:
            route = _route_template(scope)
            domain.HTTP_REQUESTS.inc(method=scope["method"], route=route, status=str(status))
            if elapsed is not None:
                domain.HTTP_LATENCY.observe(elapsed, method=scope["method"], route=route)
            if self.metrics.log_requests and route != "/metrics":
                log_event(
                    "http.request",
                    request_id=request_id,
                    method=scope["method"],
                    route=route,
                    status=status,
                    first_byte_ms=None if elapsed is None else round(elapsed * 1000, 2),
                    total_ms=round((time.perf_counter() - start) * 1000, 2),
                    user_id=scope.get("state", {}).get("user_id"),
                )


def _route_template(scope: Scope) -> str:
    """The matched route's path template, e.g. ``/api/v1/job/{job_id}/cancel``.

    Templates, not raw paths: ids in paths would give every job its own time series, and
    Ray's metrics take ASCII labels only. An included router's routes keep paths relative to
    its prefix, so the prefix is read off the request path: the segments before the route's.
    """
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if template is None:
        return "unmatched"
    if isinstance(route, Mount):
        return template  # "/studio/{path}": a mounted app's files are one series
    segments = scope["path"].split("/")
    return "/".join(segments[: len(segments) - template.count("/")]) + template
