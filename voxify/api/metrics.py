"""Prometheus metrics of the HTTP API: requests by route and status, and their latency."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint


class ApiMetrics:
    """One registry per app, so several apps in one process never share counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "voxify_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "voxify_http_request_seconds",
            "Time to the response's first byte",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )

    def install(self, app: FastAPI) -> None:
        """Count every request and serve GET /metrics."""
        app.add_middleware(BaseHTTPMiddleware, dispatch=self._measure)
        app.add_api_route("/metrics", self._expose, methods=["GET"], include_in_schema=False)

    async def _measure(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = _route_template(request)
        self.requests.labels(request.method, route, str(response.status_code)).inc()
        self.latency.labels(request.method, route).observe(time.perf_counter() - start)
        return response

    def _expose(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


def _route_template(request: Request) -> str:
    """The request path with its path parameters put back as ``{name}``.

    Templates, not raw paths: ids in paths would give every job its own time series. (Included
    routers keep their own relative paths, so the template is rebuilt from the parameters.)
    """
    if request.scope.get("route") is None:
        return "unmatched"
    names = {str(value): name for name, value in request.path_params.items()}
    segments = request.url.path.split("/")
    return "/".join(f"{{{names[s]}}}" if s in names else s for s in segments)
