"""RayJobLauncher: the JobLauncher port as Ray tasks."""

from __future__ import annotations

import time

import ray

from deployments.tasks import run_job
from deployments.wiring import Pools
from voxify.config import Settings
from voxify.voices.catalogue import VoiceCatalogue

NODES_CACHE_S = 5.0


class RayJobLauncher:
    """Runs each job as a Ray task that calls the Synthesizer pool and the Embedder."""

    def __init__(self, settings: Settings, pools: Pools, catalogue: VoiceCatalogue) -> None:
        self._settings = settings
        self._pools = pools
        self._catalogue = catalogue
        self._alive_nodes: set[str] = set()
        self._alive_checked = 0.0

    def launch(self, job_id: str) -> None:
        """Start the job's task; its result is the row in the database, not the ObjectRef."""
        run_job.options(num_cpus=self._settings.job_task_num_cpus).remote(
            self._settings, job_id, self._pools, self._catalogue
        )

    def is_runner_alive(self, runner_id: str) -> bool:
        """A runner is alive while the node it ran on is in the cluster."""
        if time.monotonic() - self._alive_checked > NODES_CACHE_S:
            self._alive_nodes = {n["NodeID"] for n in ray.nodes() if n.get("Alive")}
            self._alive_checked = time.monotonic()
        return runner_id.split(":", 1)[0] in self._alive_nodes

    def check(self) -> str:
        """Ready while Ray is connected."""
        return "ok" if ray.is_initialized() else "ray is not initialized"
