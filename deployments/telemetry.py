"""Voxify's metrics and logs in Ray processes: every metric is mirrored into Ray's metrics
(exported with Ray Serve's own on each node's metrics port, named ``ray_voxify_*``), and
Voxify's loggers write JSON lines to the process's log (collected by Ray per worker)."""

from __future__ import annotations

from collections.abc import Sequence

from ray.util import metrics as ray_metrics

from voxify.config import Settings
from voxify.observability import metrics
from voxify.observability.logs import configure_json_logging


class _Recorder:
    def __init__(self, kind: str, metric: ray_metrics.Metric) -> None:
        self.kind, self.metric = kind, metric

    def record(self, value: float, labels: dict[str, str]) -> None:
        if self.kind == "counter":
            self.metric.inc(value, tags=labels)  # type: ignore[attr-defined]
        elif self.kind == "histogram":
            self.metric.observe(value, tags=labels)  # type: ignore[attr-defined]
        else:
            self.metric.set(value, tags=labels)  # type: ignore[attr-defined]


class RayMetrics:
    """The :class:`voxify.observability.metrics.Backend` over ``ray.util.metrics``."""

    def mirror(
        self, kind: str, name: str, doc: str, labels: Sequence[str], buckets: Sequence[float]
    ) -> _Recorder:
        tags = tuple(labels)
        metric: ray_metrics.Metric
        if kind == "counter":
            metric = ray_metrics.Counter(name, description=doc, tag_keys=tags)
        elif kind == "histogram":
            metric = ray_metrics.Histogram(
                name, description=doc, boundaries=list(buckets), tag_keys=tags
            )
        else:
            metric = ray_metrics.Gauge(name, description=doc, tag_keys=tags)
        return _Recorder(kind, metric)


_BACKEND = RayMetrics()


def install(settings: Settings) -> None:
    """Mirror metrics to Ray and log JSON in this process (idempotent)."""
    metrics.mirror_to(_BACKEND)
    if settings.log_requests:
        configure_json_logging(settings.log_level)
