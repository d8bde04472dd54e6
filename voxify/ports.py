"""What the API needs from the runtime, as small interfaces: Ray or in-process behind them."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from voxify.speech import Audio, Chunk, SynthesisRequest

if TYPE_CHECKING:
    from voxify.embeddings.index import Neighbour

Metadata = Mapping[str, str | int | float | bool]


class Synthesis(Protocol):
    """The engine pools; each call raises voxify.errors.Unavailable when the pool sheds it."""

    async def render(self, request: SynthesisRequest) -> Audio:
        """Render one request, awaiting the pool without holding a thread."""
        ...

    def synthesize(self, request: SynthesisRequest) -> Audio:
        """Render one request, blocking (job threads and Ray tasks)."""
        ...

    def stream(self, request: SynthesisRequest) -> AsyncGenerator[Chunk, None]:
        """Speech as it is produced; leaving the iteration early stops the work."""
        ...

    def conditioning_latents(self, audios: Sequence[Audio]) -> bytes | None:
        """A voice's XTTS conditioning latents, or None where the pool runs no XTTS."""
        ...

    async def check(self) -> str:
        """'ok', or a reason the synthesizer is not ready (asked without holding a thread)."""
        ...


class Voiceprints(Protocol):
    """Speaker embeddings and the vector index that holds them (the Embedder)."""

    def embed(self, audio: Audio) -> np.ndarray:
        """A unit-length speaker embedding; AudioSilent when no speech is found."""
        ...

    def store(self, vector_id: str, vector: np.ndarray, metadata: Metadata) -> None: ...

    def vector(self, vector_id: str) -> np.ndarray | None: ...

    def delete(self, vector_ids: Sequence[str]) -> None: ...

    def nearest(
        self, vector: np.ndarray, *, n: int, where: dict[str, Any] | None = None
    ) -> list[Neighbour]: ...

    def check(self) -> str: ...


class AsyncVoiceprints(Protocol):
    """The same Embedder for routes: each call awaits it instead of holding a thread."""

    async def embed(self, audio: Audio) -> np.ndarray: ...

    async def store(self, vector_id: str, vector: np.ndarray, metadata: Metadata) -> None: ...

    async def vector(self, vector_id: str) -> np.ndarray | None: ...

    async def delete(self, vector_ids: Sequence[str]) -> None: ...

    async def nearest(
        self, vector: np.ndarray, *, n: int, where: dict[str, Any] | None = None
    ) -> list[Neighbour]: ...

    async def check(self) -> str: ...


class JobLauncher(Protocol):
    """Starts background work by job id, somewhere other than the request."""

    def launch(self, job_id: str) -> None: ...

    def is_runner_alive(self, runner_id: str) -> bool: ...

    def check(self) -> str: ...
