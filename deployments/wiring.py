"""The Ray side of the wiring: the deployment handles, and the catalogue they serve."""

from __future__ import annotations

from dataclasses import dataclass

from ray.serve.handle import DeploymentHandle

from voxify.voices.catalogue import VoiceCatalogue

SPEAKERS_TIMEOUT_S = 600.0  # an XTTS replica loads its model before it answers


@dataclass(frozen=True)
class Pools:
    """Handles of the deployments the ingress and the job tasks call (they pickle)."""

    piper: DeploymentHandle
    embedder: DeploymentHandle
    xtts: DeploymentHandle | None = None


async def ask_catalogue(pools: Pools) -> VoiceCatalogue:
    """The voices this deployment offers: the XTTS pool's studio speakers where it has one."""
    speakers: list[str] | None = None
    if pools.xtts is not None:
        speakers = await pools.xtts.xtts_speakers.remote() or []
    return VoiceCatalogue(xtts_speakers=speakers)
