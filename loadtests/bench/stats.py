"""Measurements: one synthesis (Sample), aggregates over many (Stats), a run's Results."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Sample:
    """One synthesis: seconds of audio produced and wall seconds it took."""

    audio_s: float
    wall_s: float
    post_s: float = 0.0  # service only: POST /tts/synthesize until its answer
    download_s: float = 0.0  # service only: GET of the WAV
    request_id: str = ""  # service only: Serve's x-request-id of the POST


@dataclass
class Stats:
    """Aggregates over a set of samples; RTF = wall seconds / audio seconds."""

    requests: int
    audio_s: float
    wall_s: float
    rtf: float
    requests_per_s: float
    audio_s_per_s: float
    latency_p50_s: float
    latency_p95_s: float
    post_share: float = 0.0  # service only: fraction of end-to-end time spent in the POST
    download_p50_s: float = 0.0  # service only: median GET of the WAV

    @classmethod
    def of(cls, samples: Sequence[Sample], wall_s: float | None = None) -> Stats:
        """Sequential (wall = sum of latencies) or concurrent (wall = elapsed) aggregates."""
        audio = sum(s.audio_s for s in samples)
        latencies = sorted(s.wall_s for s in samples)
        total = sum(latencies) if wall_s is None else wall_s
        served = sum(s.post_s + s.download_s for s in samples)
        return cls(
            requests=len(samples),
            audio_s=audio,
            wall_s=total,
            rtf=total / audio,
            requests_per_s=len(samples) / total,
            audio_s_per_s=audio / total,
            latency_p50_s=percentile(latencies, 50),
            latency_p95_s=percentile(latencies, 95),
            post_share=sum(s.post_s for s in samples) / served if served else 0.0,
            download_p50_s=percentile(sorted(s.download_s for s in samples), 50),
        )


@dataclass
class Results:
    """Everything one run measured (written with --json)."""

    machine: dict[str, Any]
    plan: dict[str, Any]
    raw: Stats | None = None
    service_c1: Stats | None = None
    overhead_c1: float = math.nan
    paired_overhead_median: float = math.nan
    paired_overhead_ms_median: float = math.nan  # service minus raw wall time, same sentence
    breakdown: dict[str, float] = field(default_factory=dict)  # where a c1 request's time goes
    service_c8: Stats | None = None
    # Piper's own HTTP server beside the service (same voice, same texts, same run).
    piper_c1: Stats | None = None
    piper_c8: Stats | None = None
    vs_piper_c1: float = math.nan  # service RTF / Piper-server RTF, concurrency 1
    vs_piper_c1_paired_median: float = math.nan
    vs_piper_c8: float = math.nan  # the same at concurrency 8
    vs_piper_c8_rounds: list[float] = field(default_factory=list)  # per burst round
    modes: dict[str, dict[str, Any]] = field(default_factory=dict)
    batched_over_unbatched: float = math.nan
    faster: str = ""
    locust: dict[str, Any] | None = None


def burst_stats(runs: Sequence[tuple[Sequence[Sample], float]]) -> Stats:
    """Aggregates over concurrent bursts: wall time is the sum of the bursts' elapsed time."""
    return Stats.of([s for batch, _ in runs for s in batch], sum(e for _, e in runs))


def paired_median(ours: Sequence[Sample], theirs: Sequence[Sample]) -> float:
    """Median over the same texts of (our RTF / their RTF)."""
    return percentile(
        sorted(
            (a.wall_s / a.audio_s) / (b.wall_s / b.audio_s)
            for a, b in zip(ours, theirs, strict=True)
        ),
        50,
    )


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]
