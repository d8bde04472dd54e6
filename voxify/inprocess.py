"""Voxify without Ray: the ports implemented in this process, wired by one function.

Used by unit tests and by anything that runs Voxify without Ray; `deployments/` provides the
Ray-backed ports and wires them with the same ``build_services``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from voxify.aio import iterate_in_thread
from voxify.api.context import Services, build_services
from voxify.config import Settings
from voxify.embeddings.encoder import SpeakerEncoder
from voxify.embeddings.index import open_index
from voxify.embeddings.service import LocalVoiceprints
from voxify.engines.base import Engine
from voxify.engines.kokoro import KokoroEngine
from voxify.engines.piper import PiperEngine
from voxify.engines.pool import EngineSet, open_kokoro, open_xtts
from voxify.jobs.runner import JobRunner
from voxify.ports import JobLauncher
from voxify.speech import Audio, Chunk, SynthesisRequest
from voxify.storage import blob_store_for
from voxify.voices.catalogue import VoiceCatalogue

RUNNER_PREFIX = "inprocess"


class EngineSynthesis:
    """Synthesis on engines in this process (the EngineSet serialises each engine's calls)."""

    def __init__(self, engines: EngineSet) -> None:
        self.engines = engines

    async def render(self, request: SynthesisRequest) -> Audio:
        """Render one request on a worker thread."""
        return await asyncio.to_thread(self.engines.render, request)

    def synthesize(self, request: SynthesisRequest) -> Audio:
        """Render one request."""
        return self.engines.render(request)

    def stream(self, request: SynthesisRequest) -> AsyncGenerator[Chunk, None]:
        """Render piece by piece on a worker thread; leaving early stops the engine."""
        return iterate_in_thread(self.engines.stream(request))

    def conditioning_latents(self, audios: Sequence[Audio]) -> bytes | None:
        """XTTS latents of a voice, or None where XTTS does not run."""
        return self.engines.conditioning_latents(audios)

    async def check(self) -> str:
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


def build_inprocess(
    settings: Settings,
    *,
    piper: Engine | None = None,
    kokoro: KokoroEngine | bool = True,
    encoder: SpeakerEncoder | None = None,
    launcher: Callable[[JobRunner], JobLauncher] = ThreadLauncher,
    heartbeat_s: float | None = None,
) -> Services:
    """Every service in this process: engines, encoder and vector index, jobs on threads.

    ``piper``, ``kokoro`` and ``encoder`` may be passed in to share loaded models between
    instances; ``kokoro``: True opens it where its files are, False runs none.
    """
    engines = EngineSet(
        piper or PiperEngine(settings.piper_model_path),
        open_xtts(settings),
        blob_store_for(settings),
        kokoro=open_kokoro(settings) if kokoro is True else (kokoro or None),
    )
    voiceprints = LocalVoiceprints(
        encoder or SpeakerEncoder(threads=1),
        open_index(settings.vector_url, data_dir=settings.data_dir),
    )
    return build_services(
        settings,
        synthesis=EngineSynthesis(engines),
        voiceprints=voiceprints,
        catalogue=VoiceCatalogue(
            xtts_speakers=engines.xtts_speakers(),
            kokoro_voices=engines.kokoro_voices(),
            kokoro_voiceprints=engines.kokoro_voiceprints(),
        ),
        launcher=launcher,
        heartbeat_s=heartbeat_s,
    )
