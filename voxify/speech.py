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
class WordTiming:
    """A word of the text and when it sounds in the audio, in seconds."""

    word: str
    start: float
    end: float

    def shifted(self, seconds: float) -> WordTiming:
        return WordTiming(self.word, self.start + seconds, self.end + seconds)


@dataclass(frozen=True)
class Audio:
    """Mono speech: float32 samples in [-1, 1] at ``sample_rate`` Hz; ``words``: when each
    word sounds, where the engine reported it (None: not asked for, or not available)."""

    samples: np.ndarray
    sample_rate: int
    words: tuple[WordTiming, ...] | None = None

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
        words: list[WordTiming] | None = [] if all(p.words is not None for p in pieces) else None
        offset = 0
        for index, piece in enumerate(pieces):
            if index and len(pause):
                parts.append(pause)
                offset += len(pause)
            parts.append(np.asarray(piece.samples, dtype=np.float32))
            if words is not None:
                words += [word.shifted(offset / rate) for word in piece.words or ()]
            offset += len(piece.samples)
        return cls(np.concatenate(parts), rate, None if words is None else tuple(words))


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
    engine: str = "piper"  # "piper" (CPU, with ``conversion`` for a CPU clone), "kokoro", "xtts"
    style: tuple[tuple[str, float], ...] | None = None  # Kokoro: packs and their weights
    speaker: str | None = None  # an XTTS studio speaker of speakers_xtts.pth
    seed: int | None = None  # XTTS sampling seed: the same seed gives the same audio
    timestamps: bool = False  # report when each word sounds (engines that can)


@dataclass(frozen=True)
class Chunk:
    """A piece of streamed speech and how far through the text it reaches (0-1)."""

    audio: Audio
    progress: float
