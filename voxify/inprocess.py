"""In-process implementations of the API's ports, built on the same engines and runner.

Used by unit tests and by anything that runs Voxify without Ray; `deployments/` provides the
Ray-backed ones.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from concurrent.futures import ThreadPoolExecutor

from voxify.aio import iterate_in_thread
from voxify.engines.base import Audio
from voxify.engines.pool import Chunk, EngineSet
from voxify.engines.render import SynthesisRequest
from voxify.jobs.runner import JobRunner

RUNNER_PREFIX = "inprocess"


class EngineSynthesis:
    """Synthesis on engines in this process (the EngineSet serialises each engine's calls)."""

    def __init__(self, engines: EngineSet) -> None:
        self.engines = engines

    def synthesize(self, request: SynthesisRequest) -> Audio:
        """Render one request."""
        return self.engines.render(request)

    def stream(self, request: SynthesisRequest) -> AsyncGenerator[Chunk, None]:
        """Render piece by piece on a worker thread; leaving early stops the engine."""
        return iterate_in_thread(self.engines.stream(request))

    def conditioning_latents(self, audios: Sequence[Audio]) -> bytes | None:
        """XTTS latents of a voice, or None where XTTS does not run."""
        return self.engines.conditioning_latents(audios)

    def xtts_speakers(self) -> list[str] | None:
        """The studio speakers of the local XTTS model, if one is loaded."""
        return self.engines.xtts_speakers()

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
