"""In-process implementations of the API's ports, built on the same engines and runner.

Used by unit tests and by anything that runs Voxify without Ray; `deployments/` provides the
Ray-backed ones.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from voxify.engines.base import Audio
from voxify.engines.pool import EngineSet
from voxify.engines.render import SynthesisRequest
from voxify.jobs.runner import JobRunner

RUNNER_PREFIX = "inprocess"


class EngineSynthesis:
    """Synthesis on engines in this process; one render at a time (engines hold state)."""

    def __init__(self, engines: EngineSet) -> None:
        self._engines = engines
        self._lock = threading.Lock()

    def synthesize(self, request: SynthesisRequest) -> Audio:
        """Render one request."""
        with self._lock:
            return self._engines.render(request)

    def conditioning_latents(self, audios: Sequence[Audio]) -> bytes | None:
        """XTTS latents of a voice, or None where XTTS does not run."""
        with self._lock:
            return self._engines.conditioning_latents(audios)

    def check(self) -> str:
        """Always ready once constructed: the engine is loaded."""
        return "ok"


class ThreadLauncher:
    """Runs jobs on a small thread pool in this process."""

    def __init__(self, runner: JobRunner, *, workers: int = 2) -> None:
        self._runner = runner
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="voxify-job")
        self._instance = f"{RUNNER_PREFIX}-{id(self):x}"

    def launch(self, job_id: str) -> None:
        """Queue the job on the pool."""
        self._pool.submit(self._runner.run, job_id, f"{self._instance}:{job_id}")

    def is_runner_alive(self, runner_id: str) -> bool:
        """Only this launcher's own runners are alive."""
        return runner_id.startswith(f"{self._instance}:")

    def check(self) -> str:
        """Ready while the pool accepts work."""
        return "ok"

    def shutdown(self) -> None:
        """Wait for running jobs and stop the pool."""
        self._pool.shutdown(wait=True)
