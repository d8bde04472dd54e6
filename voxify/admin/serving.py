"""What the engine pools look like now: replicas per pool, for the admin statistics."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from voxify.config import KOKORO_POOL, XTTS_POOL
from voxify.voices.catalogue import VoiceCatalogue

PIPER_POOL = "Synthesizer"
POOL_ENGINES = {PIPER_POOL: "piper", KOKORO_POOL: "kokoro", XTTS_POOL: "xtts"}


@dataclass(frozen=True)
class PoolState:
    """One pool: its engine, its replicas by state, and the serving system's word on it."""

    name: str
    engine: str
    replicas: dict[str, int]
    status: str

    def public(self) -> dict[str, Any]:
        return {**asdict(self), "running": self.replicas.get("RUNNING", 0)}


class ServingStatus(Protocol):
    """Reports the pools (Ray Serve's deployments, or this process's engines)."""

    async def pools(self) -> list[PoolState]: ...


class LocalServing:
    """Engines loaded in this process: one replica each, always running."""

    def __init__(self, catalogue: VoiceCatalogue) -> None:
        self._catalogue = catalogue

    async def pools(self) -> list[PoolState]:
        present = {
            PIPER_POOL: True,
            KOKORO_POOL: self._catalogue.kokoro_available,
            XTTS_POOL: self._catalogue.xtts_available,
        }
        return [
            PoolState(
                name=name, engine=POOL_ENGINES[name], replicas={"RUNNING": 1}, status="HEALTHY"
            )
            for name, here in present.items()
            if here
        ]
