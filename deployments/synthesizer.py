"""Synthesizer pools: Piper on CPU replicas, Kokoro and XTTS on GPU replicas where there are
GPUs; @serve.batch and streaming."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ray import serve
from ray.exceptions import RayActorError
from ray.serve.exceptions import BackPressureError
from ray.serve.handle import DeploymentHandle, DeploymentResponseGenerator

from deployments import telemetry
from voxify.aio import iterate_in_thread
from voxify.config import Settings
from voxify.engines.cores import narrow_sessions
from voxify.engines.piper import PiperEngine
from voxify.engines.pool import EngineSet, open_kokoro, open_xtts
from voxify.errors import EngineUnavailable, Unavailable
from voxify.observability.context import current_request_id
from voxify.observability.logs import log_event
from voxify.speech import Audio, Chunk, SynthesisRequest
from voxify.storage import blob_store_for

SYNTHESIS_TIMEOUT_S = 600.0
BUSY = "All {} synthesizer replicas are busy; retry shortly"
LOST = "The {} synthesizer replica stopped during this request; retry shortly"


@serve.deployment
class Synthesizer:
    """One engine per pool: ``piper`` (CPU), ``kokoro`` or ``xtts`` (GPU where there is one).

    Batching and threading knobs come from serve_config.yaml (user_config).
    """

    def __init__(self, settings: Settings, engine: str = "piper") -> None:
        telemetry.install(settings)
        self._settings = settings
        self._threads = 0  # 0: onnxruntime's default, one thread per core
        self._narrow = 0  # one-thread twin sessions (0: one render at a time)
        self._batch_size = 1
        blobs = blob_store_for(settings)
        self._engine = engine
        if engine == "kokoro":
            kokoro = open_kokoro(settings)
            if kokoro is None:
                raise ValueError(f"the Kokoro pool needs Kokoro's files in {settings.kokoro_dir}")
            self._engines = EngineSet(None, blobs=blobs, kokoro=kokoro)
        elif engine == "xtts":
            xtts = open_xtts(settings)
            if xtts is None:
                raise ValueError("the XTTS pool needs VOXIFY_XTTS_MODEL_DIR")
            self._engines = EngineSet(None, xtts, blobs)
        else:
            self._engines = EngineSet(PiperEngine(settings.piper_model_path), None, blobs)

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        """Apply batching and threading knobs from serve_config.yaml."""
        threads = int(user_config.get("intra_op_threads", 0))
        kokoro = self._engines.kokoro
        if kokoro is not None and threads != self._threads:
            self._engines.kokoro = kokoro.with_threads(threads)
            self._threads = threads
        narrow = narrow_sessions(user_config.get("narrow_sessions", 0))
        piper = self._engines.piper
        if isinstance(piper, PiperEngine) and (threads, narrow) != (self._threads, self._narrow):
            # A new thread count needs a new ONNX session.
            if threads != self._threads:
                piper = PiperEngine(self._settings.piper_model_path, intra_op_threads=threads)
            self._engines.replace_piper(piper, [piper.with_threads(1) for _ in range(narrow)])
            self._threads, self._narrow = threads, narrow
        batch_size = int(user_config.get("max_batch_size", 1))
        self._batch_size = batch_size
        wait_s = float(user_config.get("batch_wait_timeout_s", 0.0))
        # @serve.batch adds these setters at run time; its type hints do not declare them.
        self._batch.set_max_batch_size(batch_size)  # type: ignore[attr-defined]
        self._batch.set_batch_wait_timeout_s(wait_s)  # type: ignore[attr-defined]

    @serve.batch(max_batch_size=1, batch_wait_timeout_s=0.0)
    async def _batch(self, requests: list[SynthesisRequest]) -> list[Audio]:
        # Engines release the GIL while they compute; a thread keeps the replica's loop free.
        self._engines.stats[f"batch_size_{len(requests)}"] += 1
        return await asyncio.to_thread(self._engines.render_many, requests)

    async def synthesize(self, request: SynthesisRequest, request_id: str | None = None) -> Audio:
        """Render one request (grouped with concurrent ones when batching is on);
        ``request_id``: the caller's, for this replica's log line."""
        started = time.perf_counter()
        if self._batch_size == 1:
            # Nothing to group: skip the batch queue, which would also run one call at a time
            # (its max_concurrent_batches); the engines' schedulers say what runs together.
            self._engines.stats["batch_size_1"] += 1
            result = await asyncio.to_thread(self._engines.render, request)
        else:
            result = await self._batch(request)
        _log_render(request, request_id, result.duration, started)
        return result

    async def stream(
        self, request: SynthesisRequest, request_id: str | None = None
    ) -> AsyncIterator[Chunk]:
        """Speech as it is produced; a cancelled request stops the engine after its piece."""
        started, seconds = time.perf_counter(), 0.0
        async for chunk in iterate_in_thread(self._engines.stream(request)):
            seconds += chunk.audio.duration
            yield chunk
        _log_render(request, request_id, seconds, started)

    async def conditioning_latents(self, audios: list[Audio]) -> bytes | None:
        """A voice's XTTS latents, or None when this replica runs no XTTS."""
        return await asyncio.to_thread(self._engines.conditioning_latents, audios)

    def kokoro_voices(self) -> list[str] | None:
        """The Kokoro voice packs, or None on a replica of another engine."""
        return self._engines.kokoro_voices()

    def kokoro_voiceprints(self) -> dict[str, Any] | None:
        """The stock Kokoro voices' speaker embeddings, or None (no Kokoro, or not computed)."""
        return self._engines.kokoro_voiceprints()

    def xtts_speakers(self) -> list[str] | None:
        """The XTTS studio speakers, or None on a Piper replica."""
        return self._engines.xtts_speakers()

    def stats(self) -> dict[str, int]:
        """This replica's counters: streams started/finished/stopped, pieces, batch sizes."""
        return dict(self._engines.stats)

    def check(self) -> str:
        """Ready once the engines are loaded."""
        return "ok"


class RaySynthesis:
    """The Synthesis port (voxify.ports) over the Piper pool and, where deployed, the Kokoro
    and XTTS pools."""

    def __init__(
        self,
        piper: DeploymentHandle,
        xtts: DeploymentHandle | None = None,
        kokoro: DeploymentHandle | None = None,
    ) -> None:
        self._piper = piper
        self._xtts = xtts
        self._kokoro = kokoro

    async def render(self, request: SynthesisRequest) -> Audio:
        """Render on a replica of the voice's pool, awaiting it; overloaded: Unavailable."""
        with _shed_as_unavailable(request.engine):
            result: Audio = await self._pool(request).synthesize.remote(
                request, current_request_id()
            )
        return result

    def synthesize(self, request: SynthesisRequest) -> Audio:
        """Render on a replica of the voice's pool, blocking (job tasks)."""
        with _shed_as_unavailable(request.engine):
            response = self._pool(request).synthesize.remote(request, current_request_id())
            result: Audio = response.result(timeout_s=SYNTHESIS_TIMEOUT_S)
        return result

    async def stream(self, request: SynthesisRequest) -> AsyncGenerator[Chunk, None]:
        """Chunks from a replica as it renders; leaving early cancels the replica's work."""
        handle = self._pool(request)
        # With stream=True, remote() returns a generator; the stubs type the union.
        chunks: DeploymentResponseGenerator[Chunk] = handle.options(stream=True).stream.remote(
            request, current_request_id()
        )  # type: ignore[assignment]
        try:
            with _shed_as_unavailable(request.engine):
                async for chunk in chunks:
                    yield chunk
        finally:
            chunks.cancel()

    def conditioning_latents(self, audios: Sequence[Audio]) -> bytes | None:
        """A voice's XTTS latents computed on an XTTS replica, or None without XTTS."""
        if self._xtts is None:
            return None
        result: bytes | None = self._xtts.conditioning_latents.remote(list(audios)).result(
            timeout_s=SYNTHESIS_TIMEOUT_S
        )
        return result

    async def check(self) -> str:
        """Ask a replica of each pool whether it is ready."""
        for handle in (self._piper, self._kokoro, self._xtts):
            if handle is not None:
                answer: str = await asyncio.wait_for(handle.check.remote(), timeout=5)
                if answer != "ok":
                    return answer
        return "ok"

    def _pool(self, request: SynthesisRequest) -> DeploymentHandle:
        pool = {"piper": self._piper, "kokoro": self._kokoro, "xtts": self._xtts}[request.engine]
        if pool is None:
            raise EngineUnavailable(f"This deployment runs no {request.engine} engine")
        return pool


@contextmanager
def _shed_as_unavailable(engine: str) -> Iterator[None]:
    """A pool that sheds the request (Serve's back-pressure) is the API's 503 + Retry-After;
    so is a replica that died under it (Serve starts another): a job retries the piece, a
    client may retry the request."""
    try:
        yield
    except BackPressureError as exc:
        raise Unavailable(BUSY.format(engine)) from exc
    except RayActorError as exc:
        raise Unavailable(LOST.format(engine)) from exc


def _log_render(
    request: SynthesisRequest, request_id: str | None, audio_s: float, started: float
) -> None:
    """This replica's line for one render, under the request id of the work it served."""
    log_event(
        "synthesis.render",
        request_id=request_id,
        engine=request.engine,
        voice_id=request.voice_id,
        audio_s=round(audio_s, 3),
        render_ms=round((time.perf_counter() - started) * 1000, 1),
    )
