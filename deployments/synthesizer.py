"""Synthesizer: a replica pool around one engine, grouping concurrent requests with @serve.batch."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from ray import serve
from ray.serve.exceptions import BackPressureError
from ray.serve.handle import DeploymentHandle

from voxify.config import Settings
from voxify.engines.base import Audio
from voxify.engines.piper import PiperEngine
from voxify.engines.pool import EngineSet, open_xtts
from voxify.engines.render import SynthesisRequest
from voxify.errors import Unavailable
from voxify.storage import open_blob_store

SYNTHESIS_TIMEOUT_S = 600.0


@serve.deployment
class Synthesizer:
    """Piper on CPU, plus XTTS where configured. Batching knobs come from serve_config.yaml."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._threads = 0  # 0: onnxruntime's default, one thread per core
        blobs = open_blob_store(settings.blob_url, s3_endpoint_url=settings.s3_endpoint_url,
                                s3_region=settings.s3_region)
        self._engines = EngineSet(PiperEngine(settings.piper_model_path), open_xtts(settings),
                                  blobs)

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        """Apply batching and threading knobs from serve_config.yaml."""
        threads = int(user_config.get("intra_op_threads", 0))
        if threads != self._threads:  # a new thread count needs a new ONNX session
            self._engines.piper = PiperEngine(self._settings.piper_model_path,
                                              intra_op_threads=threads)
            self._threads = threads
        batch_size = int(user_config.get("max_batch_size", 1))
        wait_s = float(user_config.get("batch_wait_timeout_s", 0.0))
        # @serve.batch adds these setters at run time; its type hints do not declare them.
        self._batch.set_max_batch_size(batch_size)  # type: ignore[attr-defined]
        self._batch.set_batch_wait_timeout_s(wait_s)  # type: ignore[attr-defined]

    @serve.batch(max_batch_size=1, batch_wait_timeout_s=0.0)
    async def _batch(self, requests: list[SynthesisRequest]) -> list[Audio]:
        # ONNX inference holds the GIL only briefly; a thread keeps the replica's loop free.
        return await asyncio.to_thread(self._render, requests)

    def _render(self, requests: list[SynthesisRequest]) -> list[Audio]:
        return self._engines.render_many(requests)

    async def synthesize(self, request: SynthesisRequest) -> Audio:
        """Render one request (grouped with concurrent ones when batching is on)."""
        result: Audio = await self._batch(request)
        return result

    async def conditioning_latents(self, audios: list[Audio]) -> bytes | None:
        """A voice's XTTS latents, or None when this replica runs no XTTS."""
        return await asyncio.to_thread(self._engines.conditioning_latents, audios)

    def check(self) -> str:
        """Ready once the engines are loaded."""
        return "ok"


class RaySynthesis:
    """The Synthesis port (voxify.ports) over a Synthesizer handle, from any process."""

    def __init__(self, handle: DeploymentHandle) -> None:
        self._handle = handle

    def synthesize(self, request: SynthesisRequest) -> Audio:
        """Render on a Synthesizer replica; an overloaded pool answers Unavailable."""
        try:
            result: Audio = self._handle.synthesize.remote(request).result(
                timeout_s=SYNTHESIS_TIMEOUT_S
            )
        except BackPressureError as exc:
            raise Unavailable("All synthesizer replicas are busy; retry shortly") from exc
        return result

    def conditioning_latents(self, audios: Sequence[Audio]) -> bytes | None:
        """A voice's XTTS latents computed on a replica, or None without XTTS."""
        result: bytes | None = self._handle.conditioning_latents.remote(list(audios)).result(
            timeout_s=SYNTHESIS_TIMEOUT_S)
        return result

    def check(self) -> str:
        """Ask a replica whether it is ready."""
        result: str = self._handle.check.remote().result(timeout_s=5)
        return result
