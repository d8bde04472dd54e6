"""The Voiceprints port in this process: a speaker encoder beside a vector index."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from voxify.embeddings.encoder import SpeakerEncoder
from voxify.embeddings.index import Neighbour, VoiceIndex
from voxify.ports import Metadata
from voxify.speech import Audio


class LocalVoiceprints:
    """Embeds with a local encoder (one call at a time) and reads/writes a VoiceIndex."""

    def __init__(self, encoder: SpeakerEncoder, index: VoiceIndex) -> None:
        self._encoder = encoder
        self._index = index
        self._lock = threading.Lock()

    def embed(self, audio: Audio) -> np.ndarray:
        """A unit-length speaker embedding of ``audio``."""
        with self._lock:
            return self._encoder.embed(audio)

    def store(self, vector_id: str, vector: np.ndarray, metadata: Metadata) -> None:
        """Insert or replace a vector."""
        self._index.upsert(vector_id, vector, dict(metadata))

    def vector(self, vector_id: str) -> np.ndarray | None:
        """A stored vector, or None."""
        return self._index.get(vector_id)

    def delete(self, vector_ids: Sequence[str]) -> None:
        """Remove vectors (missing ones are ignored)."""
        self._index.delete(vector_ids)

    def nearest(
        self, vector: np.ndarray, *, n: int, where: dict[str, Any] | None = None
    ) -> list[Neighbour]:
        """The ``n`` most similar stored vectors matching ``where``."""
        return self._index.nearest(vector, n=n, where=where)

    def check(self) -> str:
        """'ok' while the index answers."""
        return self._index.check()
