"""`voxify serve`'s Ray side: Serve's own `serve run` on a local Ray started without the
dashboard unless asked for (or on the cluster RAY_ADDRESS names, as it is).

Usage: python -m deployments.run CONFIG.yaml [--dashboard]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

# Serve's control loop wakes every 0.1 s by default; on a small machine every wake-up is CPU
# taken from synthesis. Half a second still notices a dead replica or a scaling decision in
# well under a second (docs/benchmarks.md). Set before Ray starts: its workers inherit it.
CONTROL_LOOP_S = "0.5"


def main(argv: Sequence[str] | None = None) -> int:
    """Start the local Ray (if any), then hand the config to `serve run`, which blocks."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config")
    parser.add_argument("--dashboard", action="store_true")
    args = parser.parse_args(argv)

    os.environ.setdefault("RAY_SERVE_CONTROL_LOOP_INTERVAL_S", CONTROL_LOOP_S)
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
