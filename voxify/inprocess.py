"""In-process implementations of the API's ports, built on the same engines and runner.

Used by unit tests and by anything that runs Voxify without Ray; `deployments/` provides the
Ray-backed ones.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from voxify.engines.base import Audio, Engine
from voxify.engines.render import SynthesisRequest, render
from voxify.jobs.runner import JobRunner

RUNNER_PREFIX = "inprocess"


class EngineSynthesis:
    """Synthesis on an engine in this process; one render at a time (engines hold state)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()

    def synthesize(self, request: SynthesisRequest) -> Audio:
        """Render one request."""
        with self._lock:
            return render(self._engine, request)

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
