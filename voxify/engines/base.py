"""The contract every speech engine meets."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from voxify.speech import Audio


class Engine(Protocol):
    """A text-to-speech engine; implementations must be safe to call from one thread at a time."""

    name: str
    sample_rate: int
    languages: tuple[str, ...]

    def synthesize(self, text: str, *, speed: float = 1.0, timestamps: bool = False) -> Audio:
        """Speak the whole text as one clip (with ``timestamps``, its words' timings where the
        engine knows them)."""
        ...

    def synthesize_batch(self, texts: Sequence[str], *, speeds: Sequence[float]) -> list[Audio]:
        """Speak several texts in one batched inference; one clip per text, in order."""
        ...

    def iter_sentences(self, text: str, *, speed: float = 1.0) -> Iterator[Audio]:
        """Speak the text one sentence at a time, for streaming."""
        ...
