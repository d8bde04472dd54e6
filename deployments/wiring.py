"""The Ray side of the wiring: the deployment handles, and the catalogue they serve."""

from __future__ import annotations

from dataclasses import dataclass

from ray.serve.handle import DeploymentHandle

from deployments.synthesizer import RaySynthesis
from voxify.voices.catalogue import VoiceCatalogue

SPEAKERS_TIMEOUT_S = 600.0  # an XTTS replica loads its model before it answers


@dataclass(frozen=True)
class Pools:
    """Handles of the deployments the ingress and the job tasks call (they pickle)."""

    piper: DeploymentHandle
    embedder: DeploymentHandle
    xtts: DeploymentHandle | None = None
    kokoro: DeploymentHandle | None = None

    def synthesis(self) -> RaySynthesis:
        """The Synthesis port over these pools."""
        return RaySynthesis(self.piper, self.xtts, self.kokoro)


async def ask_catalogue(pools: Pools) -> VoiceCatalogue:
    """The voices this deployment offers: the Kokoro pool's packs and the XTTS pool's studio
    speakers where it has those pools."""
    speakers: list[str] | None = None
    packs: list[str] | None = None
    voiceprints = None
    if pools.xtts is not None:
        speakers = await pools.xtts.xtts_speakers.remote() or []
    if pools.kokoro is not None:
        packs = await pools.kokoro.kokoro_voices.remote() or []
        voiceprints = await pools.kokoro.kokoro_voiceprints.remote()
    return VoiceCatalogue(
        xtts_speakers=speakers, kokoro_voices=packs, kokoro_voiceprints=voiceprints
    )
