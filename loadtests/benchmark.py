"""Voxify benchmark: raw Piper RTF vs the service end to end, and batched vs unbatched serving."""

# Usage: .venv/bin/python loadtests/benchmark.py [--quick] [--json PATH] [--locust]
# Only the public HTTP API is measured, plus the raw engine (a child process) for the baseline.
# This process imports neither ray nor the project: each service runs as its own `voxify serve`
# session, and the raw engine runs in a session of its own too (see bench/raw.py).
# The pieces live in the package bench/ next to this file: config (plan, sentences, modes),
# stats, service (process management), client, raw (baseline engine), load, report.

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
from bench.load import breakdown, concurrent, run_locust, sequential, signed_up  # noqa: E402
from bench.raw import RawEngine, raw_worker  # noqa: E402
from bench.report import jsonable, report, summary  # noqa: E402
from bench.service import services  # noqa: E402
from bench.stats import Results, Sample, Stats, percentile  # noqa: E402


def run(plan: Plan, workdir: Path, with_locust: bool) -> Results:
    """Raw baseline next to the idle unbatched service, then both modes taking turns."""
    results = Results(
        machine={"cpus": os.cpu_count(), "platform": platform.platform(),
                 "python": platform.python_version()},
        plan={"sentences": len(plan.sentences), "sequential_rounds": plan.sequential_rounds,
              "burst_rounds": plan.burst_rounds, "burst_requests": len(plan.burst),
              "concurrency": CONCURRENCY},
    )
    engine = RawEngine()
    with closing(engine), services(["unbatched"], workdir) as first:
        with signed_up(first["unbatched"]) as plain:
            # The repo's serve_config.yaml is the unbatched mode: it is "the service" here. The
            # batched service starts only afterwards, so the baseline sees one idle service.
            print("[unbatched] sequential: raw engine and service interleaved", flush=True)
            log_start = first["unbatched"].log_size()
            raw, served = sequential(engine, plain[0], plan)
            time.sleep(2.0)  # replica log lines reach `serve run`'s output with a delay
            results.breakdown = breakdown(served, first["unbatched"].access_log(log_start))
            results.raw, results.service_c1 = Stats.of(raw), Stats.of(served)
            results.overhead_c1 = results.service_c1.rtf / results.raw.rtf
            pairs = list(zip(raw, served, strict=True))
            results.paired_overhead_median = percentile(
                sorted((s.wall_s / s.audio_s) / (r.wall_s / r.audio_s) for r, s in pairs), 50)
            results.paired_overhead_ms_median = percentile(
                sorted((s.wall_s - r.wall_s) * 1000 for r, s in pairs), 50)

            bursts: dict[str, list[tuple[list[Sample], float]]] = {mode: [] for mode in MODES}
            with services(["batched"], workdir) as second, signed_up(second["batched"]) as batch:
                clients = {"unbatched": plain, "batched": batch}
                for round_index in range(plan.burst_rounds):
                    # ABBA order: neither mode always runs right after the other.
                    order = list(MODES) if round_index % 2 == 0 else list(reversed(MODES))
                    for mode in order:
                        print(f"[{mode}] concurrency {CONCURRENCY}: burst {round_index + 1}/"
                              f"{plan.burst_rounds} of {len(plan.burst)} requests", flush=True)
                        bursts[mode].append(concurrent(clients[mode], plan.burst))
        for mode, runs in bursts.items():
            samples = [sample for batch, _ in runs for sample in batch]
            results.modes[mode] = {
                **MODES[mode],
                "c8": Stats.of(samples, sum(elapsed for _, elapsed in runs)),
                "burst_audio_s_per_s": [sum(s.audio_s for s in batch) / elapsed
                                        for batch, elapsed in runs],
            }
        results.service_c8 = results.modes["unbatched"]["c8"]
        if with_locust:  # the batched service is gone again: locust sees the repo config alone
            results.locust = run_locust(first["unbatched"].url, workdir)

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
    parser.add_argument("--locust", action="store_true",
                        help="run loadtests/locustfile.py headless against the unbatched service")
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
        results = run(QUICK if args.quick else FULL, Path(tmp), args.locust)
    print()
    print(report(results))
    print(f"(total benchmark time {time.perf_counter() - started:.0f} s)")
    print(summary(results))
    if args.json:
        args.json.write_text(json.dumps(jsonable(asdict(results)), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
