"""What the API needs from the runtime, as small interfaces: Ray or in-process behind them."""

from __future__ import annotations

from typing import Protocol

from voxify.engines.base import Audio
from voxify.engines.render import SynthesisRequest


class Synthesis(Protocol):
    """Renders speech; raises voxify.errors.Unavailable when the pool is overloaded."""

    def synthesize(self, request: SynthesisRequest) -> Audio: ...

    def check(self) -> str:
        """'ok', or a reason the synthesizer is not ready."""
        ...


class JobLauncher(Protocol):
    """Starts background work by job id, somewhere other than the request."""

    def launch(self, job_id: str) -> None: ...

    def is_runner_alive(self, runner_id: str) -> bool: ...

    def check(self) -> str: ...
