"""Voxify's own Prometheus metrics, one set per process.

Each metric is recorded in this process's registry (served at ``/metrics`` by the API) and,
where a backend is attached (:func:`mirror_to`), also there: in a Ray cluster `deployments/`
attaches Ray's metrics, so the series of every replica and job task reach Ray's metrics
endpoint on each node, beside Ray Serve's own.

Buckets follow the measured values (docs/benchmarks.md): Piper renders at RTF 0.03-0.2 on a
CPU, Kokoro at 0.5-1.2; first audio comes after 0.05-0.5 s (Piper) or about 1 s (Kokoro).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter
from prometheus_client import Gauge as PromGauge
from prometheus_client import Histogram as PromHistogram

REGISTRY = CollectorRegistry()

RTF_BUCKETS = (0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0)
FIRST_AUDIO_BUCKETS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
QUEUE_WAIT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)


class Mirror(Protocol):
    """One metric in another backend: counters ``inc``, histograms ``observe``, gauges
    ``set``, each with the label values as a dict."""

    def record(self, value: float, labels: dict[str, str]) -> None: ...


class Backend(Protocol):
    """Where metrics are mirrored: builds one :class:`Mirror` per metric."""

    def mirror(
        self, kind: str, name: str, doc: str, labels: Sequence[str], buckets: Sequence[float]
    ) -> Mirror: ...


class _Metric:
    kind = ""

    def __init__(
        self, name: str, doc: str, labels: Sequence[str], buckets: Sequence[float] = ()
    ) -> None:
        self.name, self.doc, self.labels, self.buckets = name, doc, tuple(labels), tuple(buckets)
        self.mirrors: list[Mirror] = []
        _ALL.append(self)

    def _mirror(self, value: float, labels: dict[str, str]) -> None:
        for mirror in self.mirrors:
            mirror.record(value, labels)


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, doc: str, labels: Sequence[str]) -> None:
        super().__init__(name, doc, labels)
        self.prom = PromCounter(name, doc, self.labels, registry=REGISTRY)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` to the series of ``labels``."""
        self.prom.labels(**labels).inc(amount)
        self._mirror(amount, labels)


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name: str, doc: str, labels: Sequence[str], buckets: Sequence[float]):
        super().__init__(name, doc, labels, buckets)
        self.prom = PromHistogram(name, doc, self.labels, registry=REGISTRY, buckets=buckets)

    def observe(self, value: float, **labels: str) -> None:
        """Record one value in the series of ``labels``."""
        self.prom.labels(**labels).observe(value)
        self._mirror(value, labels)


class Gauge(_Metric):
    kind = "gauge"

    def __init__(self, name: str, doc: str, labels: Sequence[str]) -> None:
        super().__init__(name, doc, labels)
        self.prom = PromGauge(name, doc, self.labels, registry=REGISTRY)

    def set(self, value: float, **labels: str) -> None:
        """Set the series of ``labels`` to ``value``."""
        self.prom.labels(**labels).set(value)
        self._mirror(value, labels)


_ALL: list[_Metric] = []
_MIRRORED: set[int] = set()
_LOCK = threading.Lock()

HTTP_REQUESTS = Counter(
    "voxify_http_requests", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "voxify_http_request_seconds",
    "Time to the response's first byte",
    ["method", "route"],
    (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
GRPC_REQUESTS = Counter(
    "voxify_grpc_requests", "gRPC calls answered, by method and status code", ["method", "code"]
)
GRPC_LATENCY = Histogram(
    "voxify_grpc_request_seconds",
    "Time a gRPC call took (a stream: until its last message)",
    ["method"],
    (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
)
SYNTHESES = Counter(
    "voxify_syntheses",
    "Syntheses finished, by engine, door and outcome",
    ["engine", "door", "outcome"],
)
AUDIO_SECONDS = Counter(
    "voxify_synthesis_audio_seconds", "Seconds of audio rendered", ["engine", "door"]
)
RTF = Histogram(
    "voxify_synthesis_rtf",
    "Real-time factor of a synthesis (render seconds / audio seconds)",
    ["engine", "door"],
    RTF_BUCKETS,
)
FIRST_AUDIO = Histogram(
    "voxify_stream_first_audio_seconds",
    "Time from a stream's admission to its first audio",
    ["engine"],
    FIRST_AUDIO_BUCKETS,
)
JOBS = Gauge("voxify_jobs", "Jobs in each state now", ["type", "status"])
JOB_TRANSITIONS = Counter("voxify_job_transitions", "Jobs entering a state", ["type", "status"])
JOB_QUEUE_WAIT = Histogram(
    "voxify_job_queue_wait_seconds",
    "Time from a job's creation (or re-queueing) to a runner claiming it",
    ["type"],
    QUEUE_WAIT_BUCKETS,
)
JOB_RETRIES = Counter("voxify_job_retries", "Job attempts after the first", ["type"])
JOB_RECOVERIES = Counter(
    "voxify_job_recoveries",
    "Jobs found without a live runner and re-queued or failed",
    ["type", "outcome"],
)
LIMIT_REJECTIONS = Counter(
    "voxify_limit_rejections", "Requests refused by a rate limit or quota", ["limit"]
)
POOL_SHEDS = Counter(
    "voxify_pool_sheds", "Work refused (503) because a pool's queue was full", ["pool"]
)


def mirror_to(backend: Backend) -> None:
    """Also record every metric in ``backend`` (once per process and backend)."""
    with _LOCK:
        if id(backend) in _MIRRORED:
            return
        _MIRRORED.add(id(backend))
        for metric in _ALL:
            metric.mirrors.append(
                backend.mirror(metric.kind, metric.name, metric.doc, metric.labels, metric.buckets)
            )
