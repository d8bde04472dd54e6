"""`voxify serve`'s Ray side: Serve's own `serve run` on a local Ray started without the
dashboard unless asked for (or on the cluster RAY_ADDRESS names, as it is).

Usage: python -m deployments.run CONFIG.yaml [--dashboard]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

# Serve's process settings, read from the environment when Ray starts (its workers inherit
# them), measured with loadtests/benchmark.py (docs/benchmarks.md):
# - the control loop wakes every 0.5 s instead of 0.1 s: every wake-up is CPU taken from
#   synthesis on a small machine, and half a second still notices a dead replica at once;
# - Serve's "throughput optimized" mode: user code on each replica's own event loop (no
#   cross-thread hop per request), handle calls over gRPC, request-path logs buffered, GC
#   frozen after start-up: less CPU per request (concurrency 8 went from x1.00 to x0.88-0.95
#   of Piper's server);
# - but not three of its parts: the handle router stays on its own loop (job tasks and
#   worker threads call handles without an event loop, which the in-loop router refuses);
#   no direct ingress, which has every ingress replica listen on a port of its own (30000+)
#   instead of the proxy's one address; stderr stays on, so that operators running
#   `voxify serve` see replica errors in the terminal;
# - a handle's gRPC channel takes answers as large as the replica's server sends (2 GiB - 1),
#   not gRPC's default 4 MiB: a minute of speech at 22 kHz is 5 MB of float32 samples, and
#   every larger render (or streamed piece) failed with RESOURCE_EXHAUSTED, a 500.
SERVE_ENV = {
    "RAY_SERVE_CONTROL_LOOP_INTERVAL_S": "0.5",
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
    "RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP": "1",
    "RAY_SERVE_ENABLE_DIRECT_INGRESS": "0",
    "RAY_SERVE_LOG_TO_STDERR": "1",
    "RAY_SERVE_REPLICA_GRPC_MAX_MESSAGE_LENGTH": "2147483647",
}


def apply_serve_env() -> None:
    """Set SERVE_ENV before Ray starts; a value the caller already set wins."""
    for name, value in SERVE_ENV.items():
        os.environ.setdefault(name, value)


def main(argv: Sequence[str] | None = None) -> int:
    """Start the local Ray (if any), then hand the config to `serve run`, which blocks."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config")
    parser.add_argument("--dashboard", action="store_true")
    args = parser.parse_args(argv)

    apply_serve_env()
    import ray
    from ray.serve._private.constants import SERVE_NAMESPACE
    from ray.serve.scripts import run

    from voxify.cli import local_ray

    if local_ray():
        # `serve run` reuses an initialized Ray; started here, it comes without the dashboard's
        # head process unless asked for.
        ray.init(namespace=SERVE_NAMESPACE, include_dashboard=args.dashboard)
    run.main([args.config], prog_name="serve run", standalone_mode=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
