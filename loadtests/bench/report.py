"""Printing: the results table, the SUMMARY line, and JSON-safe values for --json."""

from __future__ import annotations

import math
from typing import Any

from .config import OVERHEAD_TARGET, VS_PIPER_TARGETS
from .stats import Results, Stats


def _row(label: str, stats: Stats) -> str:
    return (
        f"{label:<34}{stats.requests:>5}{stats.audio_s:>9.1f}{stats.wall_s:>9.1f}"
        f"{stats.rtf:>8.3f}{stats.requests_per_s:>8.2f}{stats.audio_s_per_s:>9.2f}"
        f"{stats.latency_p50_s:>8.2f}{stats.latency_p95_s:>8.2f}"
    )


def report(results: Results) -> str:
    """The results table and the lines that explain it."""
    header = (
        f"{'measurement':<34}{'reqs':>5}{'audio s':>9}{'wall s':>9}{'RTF':>8}"
        f"{'req/s':>8}{'audio/s':>9}{'p50 s':>8}{'p95 s':>8}"
    )
    lines = [header, "-" * len(header)]
    if results.raw:
        lines.append(_row("raw Piper, sequential", results.raw))
    if results.piper_c1:
        lines.append(_row("Piper HTTP server, concurrency 1", results.piper_c1))
    if results.service_c1:
        lines.append(_row("service, concurrency 1", results.service_c1))
    if results.piper_c8:
        lines.append(_row("Piper HTTP server, concurrency 8", results.piper_c8))
    if results.service_c8:
        lines.append(_row("service, concurrency 8", results.service_c8))
    for mode, data in results.modes.items():
        lines.append(_row(f"{mode} Synthesizer, conc. 8", data["c8"]))
    lines.append("")
    if results.piper_c1 and results.piper_c8:
        lines.append(
            f"service RTF / Piper HTTP server RTF: concurrency 1 "
            f"x{results.vs_piper_c1:.3f} (median of paired ratios "
            f"x{results.vs_piper_c1_paired_median:.3f}; target <= "
            f"{VS_PIPER_TARGETS[1]}), concurrency 8 x{results.vs_piper_c8:.3f} "
            f"(target <= {VS_PIPER_TARGETS[8]})"
        )
        lines.append(
            "  concurrency 8 per burst round: "
            + ", ".join(f"x{r:.2f}" for r in results.vs_piper_c8_rounds)
        )
    if results.service_c1:
        lines.append(
            f"overhead service/raw at concurrency 1: x{results.overhead_c1:.3f} "
            f"(median of paired ratios x{results.paired_overhead_median:.3f}; "
            f"target <= {OVERHEAD_TARGET})"
        )
        lines.append(
            f"  median extra wall time per request vs raw: "
            f"{results.paired_overhead_ms_median:.0f} ms; the POST is "
            f"{results.service_c1.post_share:.0%} of end-to-end time, the WAV "
            f"download p50 {results.service_c1.download_p50_s * 1000:.0f} ms"
        )
    if results.breakdown:
        parts = results.breakdown
        lines.append(
            f"  per request at concurrency 1 (medians, Serve access log): Synthesizer "
            f"{parts['synthesizer_ms']:.0f} ms, Ingress +{parts['ingress_extra_ms']:.0f}"
            f" ms, proxy/HTTP +{parts['proxy_http_extra_ms']:.0f} ms, download "
            f"{parts['download_ms']:.0f} ms -> end to end / Synthesizer "
            f"x{parts['end_to_end_over_synthesizer']:.3f}"
        )
    if results.faster:
        lines.append(
            f"batched/unbatched throughput (audio s/s): "
            f"x{results.batched_over_unbatched:.3f} -> {results.faster} is faster"
        )
        pairs = zip(
            results.modes["batched"]["burst_audio_s_per_s"],
            results.modes["unbatched"]["burst_audio_s_per_s"],
            strict=True,
        )
        lines.append("  per burst round: " + ", ".join(f"x{b / u:.2f}" for b, u in pairs))
    if results.locust:
        lines += [
            "",
            f"locust (exit code {results.locust['exit_code']}):",
            f"  {'name':<26}{'reqs':>6}{'fails':>6}{'req/s':>7}{'p50 ms':>8}{'p95 ms':>8}",
        ]
        for row in [*results.locust["per_request"], results.locust["aggregated"]]:
            lines.append(
                f"  {row.get('Name', ''):<26}{row.get('Request Count', ''):>6}"
                f"{row.get('Failure Count', ''):>6}{_f(row.get('Requests/s')):>7}"
                f"{row.get('50%', ''):>8}{row.get('95%', ''):>8}"
            )
    return "\n".join(lines)


def _f(value: str | None) -> str:
    try:
        return f"{float(value or 'nan'):.2f}"
    except ValueError:
        return str(value)


def summary(results: Results) -> str:
    """One SUMMARY line with the verdicts."""
    parts = []
    if results.raw and results.service_c1 and results.service_c8:
        verdict = "PASS" if results.overhead_c1 <= OVERHEAD_TARGET else "FAIL"
        parts += [
            f"raw RTF {results.raw.rtf:.3f}",
            f"service RTF c1 {results.service_c1.rtf:.3f} (x{results.overhead_c1:.2f} "
            f"{verdict} <= {OVERHEAD_TARGET})",
            f"c8 RTF {results.service_c8.rtf:.3f} p50 {results.service_c8.latency_p50_s:.1f} s "
            f"p95 {results.service_c8.latency_p95_s:.1f} s",
        ]
    if results.piper_c1 and results.piper_c8:
        for concurrency, ratio in ((1, results.vs_piper_c1), (8, results.vs_piper_c8)):
            target = VS_PIPER_TARGETS[concurrency]
            verdict = "PASS" if ratio <= target else "FAIL"
            parts.append(f"vs Piper server c{concurrency} x{ratio:.2f} {verdict} <= {target}")
    if results.faster:
        parts.append(
            f"batched/unbatched x{results.batched_over_unbatched:.2f} ({results.faster} faster)"
        )
    return "SUMMARY " + " | ".join(parts)


def jsonable(value: Any) -> Any:
    """asdict() output with NaN (not valid JSON) turned into null."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
