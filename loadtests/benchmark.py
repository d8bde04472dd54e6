"""Voxify benchmark: the service end to end vs raw Piper and Piper's own HTTP server, and
batched vs unbatched serving."""

# Usage: .venv/bin/python loadtests/benchmark.py [--quick] [--json PATH] [--locust] [--no-batched]
# Only the public HTTP API is measured, plus the raw engine (a child process) and Piper's own
# HTTP server (python -m piper.http_server, same voice) as baselines.
# This process imports neither ray nor the project: each service runs as its own `voxify serve`
# session, and the raw engine runs in a session of its own too (see bench/raw.py).
# The pieces live in the package bench/ next to this file: config (plan, sentences, modes),
# stats, service (process management), client, raw (baseline engine), piper_server, load,
# report.

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import asdict
from pathlib import Path

# Run as a script, this directory is already first on sys.path; imported, it may not be.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from bench.config import CONCURRENCY, FULL, MODES, QUICK, Plan  # noqa: E402
from bench.load import (  # noqa: E402
    breakdown,
    bursts,
    piper_callers,
    run_locust,
    sequential,
    signed_up,
)
from bench.piper_server import PiperServer  # noqa: E402
from bench.raw import RawEngine, raw_worker  # noqa: E402
from bench.report import jsonable, report, summary  # noqa: E402
from bench.service import services  # noqa: E402
from bench.stats import Results, Stats, burst_stats, paired_median, percentile  # noqa: E402


def run(plan: Plan, workdir: Path, with_locust: bool, with_batched: bool = True) -> Results:
    """Raw engine, Piper's HTTP server and the service side by side; then batched vs unbatched."""
    results = Results(
        machine={
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        plan={
            "sentences": len(plan.sentences),
            "sequential_rounds": plan.sequential_rounds,
            "burst_rounds": plan.burst_rounds,
            "burst_requests": len(plan.burst),
            "concurrency": CONCURRENCY,
        },
    )
    engine = RawEngine()
    server = PiperServer(workdir)
    with closing(engine), closing(server), services(["unbatched"], workdir) as first:
        server.wait_ready()
        with signed_up(first["unbatched"]) as plain, piper_callers(server) as piper:
            # The repo's serve_config.yaml is the unbatched mode: it is "the service" here. The
            # batched service starts only afterwards, so the comparisons with Piper see one
            # idle service.
            print(
                "[unbatched] sequential: raw engine, Piper server and service interleaved",
                flush=True,
            )
            log_start = first["unbatched"].log_size()
            c1 = sequential({"raw": engine, "service": plain[0], "piper-server": piper[0]}, plan)
            raw, served = c1["raw"], c1["service"]
            time.sleep(2.0)  # replica log lines reach `serve run`'s output with a delay
            results.breakdown = breakdown(served, first["unbatched"].access_log(log_start))
            results.raw, results.service_c1 = Stats.of(raw), Stats.of(served)
            results.piper_c1 = Stats.of(c1["piper-server"])
            results.overhead_c1 = results.service_c1.rtf / results.raw.rtf
            results.vs_piper_c1 = results.service_c1.rtf / results.piper_c1.rtf
            results.vs_piper_c1_paired_median = paired_median(served, c1["piper-server"])
            results.paired_overhead_median = paired_median(served, raw)
            results.paired_overhead_ms_median = percentile(
                sorted((s.wall_s - r.wall_s) * 1000 for r, s in zip(raw, served, strict=True)), 50
            )

            duel = bursts({"service": plain, "piper-server": piper}, plan.burst, plan.burst_rounds)
            server.close()  # idle from here on: the batched comparison runs without it
            results.service_c8 = burst_stats(duel["service"])
            results.piper_c8 = burst_stats(duel["piper-server"])
            results.vs_piper_c8 = results.service_c8.rtf / results.piper_c8.rtf
            results.vs_piper_c8_rounds = [
                (ours / sum(s.audio_s for s in batch_ours))
                / (theirs / sum(s.audio_s for s in batch_theirs))
                for (batch_ours, ours), (batch_theirs, theirs) in zip(
                    duel["service"], duel["piper-server"], strict=True
                )
            ]

            if with_batched:
                with (
                    services(["batched"], workdir) as second,
                    signed_up(second["batched"]) as batch,
                ):
                    runs = bursts(
                        {"unbatched": plain, "batched": batch},
                        plan.burst,
                        plan.burst_rounds,
                        label="batching: ",
                    )
                for mode, mode_runs in runs.items():
                    results.modes[mode] = {
                        **MODES[mode],
                        "c8": burst_stats(mode_runs),
                        "burst_audio_s_per_s": [
                            sum(s.audio_s for s in batch) / elapsed for batch, elapsed in mode_runs
                        ],
                    }
        if with_locust:  # the batched service is gone again: locust sees the repo config alone
            results.locust = run_locust(first["unbatched"].url, workdir)

    if results.modes:
        unbatched = results.modes["unbatched"]["c8"].audio_s_per_s
        batched = results.modes["batched"]["c8"].audio_s_per_s
        results.batched_over_unbatched = batched / unbatched
        results.faster = "batched" if batched > unbatched else "unbatched"
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table and summary, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer sentences/rounds")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument(
        "--locust",
        action="store_true",
        help="run loadtests/locustfile.py headless against the unbatched service",
    )
    parser.add_argument(
        "--no-batched",
        action="store_true",
        help="skip the batched-vs-unbatched comparison (a second service)",
    )
    parser.add_argument("--raw-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.raw_worker:
        return raw_worker()

    # SIGTERM should stop the services too: turn it into the same unwinding as Ctrl-C.
    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="voxify-bench-") as tmp:
        results = run(
            QUICK if args.quick else FULL, Path(tmp), args.locust, with_batched=not args.no_batched
        )
    print()
    print(report(results))
    print(f"(total benchmark time {time.perf_counter() - started:.0f} s)")
    print(summary(results))
    if args.json:
        args.json.write_text(json.dumps(jsonable(asdict(results)), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
