"""The AsyncVoiceprints port over a blocking Voiceprints, for in-process services (a module of
its own: the API's wiring imports it, and must not load torch or Chroma with it)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from voxify.ports import Metadata, Voiceprints
from voxify.speech import Audio

if TYPE_CHECKING:
    from voxify.embeddings.index import Neighbour


class ThreadedVoiceprints:
    """The AsyncVoiceprints port over an in-process Voiceprints: each call on a worker thread,
    so the event loop is never blocked by the encoder or the index."""

    def __init__(self, voiceprints: Voiceprints) -> None:
        self._sync = voiceprints

    async def embed(self, audio: Audio) -> np.ndarray:
        return await asyncio.to_thread(self._sync.embed, audio)

    async def store(self, vector_id: str, vector: np.ndarray, metadata: Metadata) -> None:
        await asyncio.to_thread(self._sync.store, vector_id, vector, metadata)

    async def vector(self, vector_id: str) -> np.ndarray | None:
        return await asyncio.to_thread(self._sync.vector, vector_id)

    async def delete(self, vector_ids: Sequence[str]) -> None:
        await asyncio.to_thread(self._sync.delete, vector_ids)

    async def nearest(
        self, vector: np.ndarray, *, n: int, where: dict[str, Any] | None = None
    ) -> list[Neighbour]:
        return await asyncio.to_thread(self._sync.nearest, vector, n=n, where=where)

    async def check(self) -> str:
        return await asyncio.to_thread(self._sync.check)
