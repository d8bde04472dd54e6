"""Embedder: speaker embeddings (resemblyzer) and the Chroma index they are written to."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import numpy as np
from ray import serve
from ray.serve.handle import DeploymentHandle

from voxify.config import Settings
from voxify.embeddings.encoder import SpeakerEncoder
from voxify.embeddings.index import Neighbour, open_index
from voxify.embeddings.service import LocalVoiceprints
from voxify.ports import Metadata
from voxify.speech import Audio

CALL_TIMEOUT_S = 120.0


@serve.deployment
class Embedder:
    """One encoder and the vector index; the only process that opens an embedded Chroma."""

    def __init__(self, settings: Settings) -> None:
        index = open_index(settings.vector_url, data_dir=settings.data_dir)
        self._voiceprints = LocalVoiceprints(SpeakerEncoder(threads=1), index)

    def embed(self, audio: Audio) -> np.ndarray:
        return self._voiceprints.embed(audio)

    def store(self, vector_id: str, vector: np.ndarray, metadata: dict[str, Any]) -> None:
        self._voiceprints.store(vector_id, vector, metadata)

    def vector(self, vector_id: str) -> np.ndarray | None:
        return self._voiceprints.vector(vector_id)

    def delete(self, vector_ids: list[str]) -> None:
        self._voiceprints.delete(vector_ids)

    def nearest(self, vector: np.ndarray, n: int, where: dict[str, Any] | None) -> list[Neighbour]:
        return self._voiceprints.nearest(vector, n=n, where=where)

    def check(self) -> str:
        return self._voiceprints.check()


class RayVoiceprints:
    """The Voiceprints port (voxify.ports) over an Embedder handle, from any process."""

    def __init__(self, handle: DeploymentHandle) -> None:
        self._handle = handle

    def embed(self, audio: Audio) -> np.ndarray:
        """A speaker embedding computed on the Embedder."""
        result: np.ndarray = self._handle.embed.remote(audio).result(timeout_s=CALL_TIMEOUT_S)
        return result

    def store(self, vector_id: str, vector: np.ndarray, metadata: Metadata) -> None:
        """Insert or replace a vector in the index."""
        self._handle.store.remote(vector_id, vector, dict(metadata)).result(
            timeout_s=CALL_TIMEOUT_S
        )

    def vector(self, vector_id: str) -> np.ndarray | None:
        """A stored vector, or None."""
        result: np.ndarray | None = self._handle.vector.remote(vector_id).result(
            timeout_s=CALL_TIMEOUT_S
        )
        return result

    def delete(self, vector_ids: Sequence[str]) -> None:
        """Remove vectors (missing ones are ignored)."""
        self._handle.delete.remote(list(vector_ids)).result(timeout_s=CALL_TIMEOUT_S)

    def nearest(
        self, vector: np.ndarray, *, n: int, where: dict[str, Any] | None = None
    ) -> list[Neighbour]:
        """The ``n`` most similar stored vectors matching ``where``."""
        result: list[Neighbour] = self._handle.nearest.remote(vector, n, where).result(
            timeout_s=CALL_TIMEOUT_S
        )
        return result

    def check(self) -> str:
        """Ask the Embedder whether its index answers."""
        result: str = self._handle.check.remote().result(timeout_s=10)
        return result


class RayAsyncVoiceprints:
    """The AsyncVoiceprints port (voxify.ports) over an Embedder handle: routes await it."""

    def __init__(self, handle: DeploymentHandle) -> None:
        self._handle = handle

    async def embed(self, audio: Audio) -> np.ndarray:
        result: np.ndarray = await self._handle.embed.remote(audio)
        return result

    async def store(self, vector_id: str, vector: np.ndarray, metadata: Metadata) -> None:
        await self._handle.store.remote(vector_id, vector, dict(metadata))

    async def vector(self, vector_id: str) -> np.ndarray | None:
        result: np.ndarray | None = await self._handle.vector.remote(vector_id)
        return result

    async def delete(self, vector_ids: Sequence[str]) -> None:
        await self._handle.delete.remote(list(vector_ids))

    async def nearest(
        self, vector: np.ndarray, *, n: int, where: dict[str, Any] | None = None
    ) -> list[Neighbour]:
        result: list[Neighbour] = await self._handle.nearest.remote(vector, n, where)
        return result

    async def check(self) -> str:
        result: str = await asyncio.wait_for(self._handle.check.remote(), timeout=10)
        return result
