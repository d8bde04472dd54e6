"""The values every layer shares: audio, a synthesis request, a streamed chunk.

A neutral module: audio/, embeddings/, engines/ and the services all import it, it imports
none of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Audio:
    """Mono speech: float32 samples in [-1, 1] at ``sample_rate`` Hz."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate

    @classmethod
    def join(cls, pieces: Sequence[Audio], *, pause_s: float = 0.0) -> Audio:
        """Pieces at one rate, end to end, with ``pause_s`` of silence between them."""
        rate = pieces[0].sample_rate
        pause = np.zeros(int(pause_s * rate), dtype=np.float32)
        parts: list[np.ndarray] = []
        for index, piece in enumerate(pieces):
            if index and len(pause):
                parts.append(pause)
            parts.append(np.asarray(piece.samples, dtype=np.float32))
        return cls(np.concatenate(parts), rate)


@dataclass(frozen=True)
class SynthesisRequest:
    """Everything an engine replica needs; plain data so it crosses process boundaries."""

    text: str
    voice_id: str = "default_voice_001"
    language: str = "en-US"
    speed: float = 1.0
    pitch: float = 1.0
    volume: float = 1.0
    sample_rate: int | None = None  # None: the engine's native rate
    conversion: dict[str, Any] | None = None  # a CPU clone's ConversionParams, as stored
    latents_key: str | None = None  # a clone's XTTS conditioning latents in the blob store
    engine: str = "piper"  # "piper" (CPU, with ``conversion`` for a CPU clone) or "xtts"
    speaker: str | None = None  # an XTTS studio speaker of speakers_xtts.pth
    seed: int | None = None  # XTTS sampling seed: the same seed gives the same audio


@dataclass(frozen=True)
class Chunk:
    """A piece of streamed speech and how far through the text it reaches (0-1)."""

    audio: Audio
    progress: float
