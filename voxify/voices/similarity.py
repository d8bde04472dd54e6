"""Nearest voices to a sample or voice, among those a user may see (the vector index)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from voxify.db.models import User
from voxify.db.session import session_scope
from voxify.errors import InvalidState, NotFound
from voxify.ports import AsyncVoiceprints, Synthesis
from voxify.speech import SynthesisRequest
from voxify.status import CloneStatus, SampleStatus
from voxify.voices import repository
from voxify.voices.catalogue import CLONE_PREFIX, VoiceCatalogue
from voxify.voices.library import CALIBRATION_TEXTS, PRESETS, Voice

if TYPE_CHECKING:
    from voxify.embeddings.index import Neighbour

PUBLIC_OWNER = "public"
READY = "ready"  # a reference whose embedding may be read


async def nearest_voices(
    *,
    sessions: sessionmaker[Session],
    voiceprints: AsyncVoiceprints,
    synthesis: Synthesis,
    catalogue: VoiceCatalogue,
    user: User,
    reference_id: str,
    limit: int,
) -> list[tuple[Voice, float]]:
    """Presets and the user's ready clones most similar to the user's sample or clone, or to a
    preset, with cosine similarity. The database is read on worker threads; the Embedder (and,
    the first time, the Synthesizer) are awaited."""
    await ensure_preset_vectors(voiceprints, synthesis)
    state = await asyncio.to_thread(_reference_state, sessions, user, reference_id, catalogue)
    vector = await voiceprints.vector(reference_id) if state == READY else None
    if vector is None:
        raise InvalidState(
            f"'{reference_id}' has no speaker embedding yet (status {state}); "
            "process the sample or wait for the clone to be ready"
        )
    where = {
        "$and": [
            {"kind": {"$in": ["preset", "clone"]}},
            {"owner_id": {"$in": [user.id, PUBLIC_OWNER]}},
        ]
    }
    neighbours = await voiceprints.nearest(vector, n=limit + 1, where=where)
    return await asyncio.to_thread(
        _visible, sessions, user, neighbours, reference_id, catalogue, limit
    )


async def ensure_preset_vectors(voiceprints: AsyncVoiceprints, synthesis: Synthesis) -> int:
    """Index every Piper preset not yet in the index; returns how many were added.

    XTTS studio speakers are not indexed: rendering calibration speech for each of them would
    hold a GPU replica for minutes on the first query.
    """
    added = 0
    for voice in PRESETS:
        if await voiceprints.vector(voice.voice_model_id) is not None:
            continue
        audio = await synthesis.render(
            SynthesisRequest(text=" ".join(CALIBRATION_TEXTS), voice_id=voice.voice_model_id)
        )
        await voiceprints.store(
            voice.voice_model_id,
            await voiceprints.embed(audio),
            {
                "owner_id": PUBLIC_OWNER,
                "kind": "preset",
                "voice_model_id": voice.voice_model_id,
                "name": voice.name,
                "language": voice.language,
            },
        )
        added += 1
    return added


def _reference_state(
    sessions: sessionmaker[Session], user: User, reference_id: str, catalogue: VoiceCatalogue
) -> str:
    """READY when the reference may have an embedding, else its status; NotFound if absent."""
    with session_scope(sessions) as session:
        if reference_id.startswith("vs_"):
            sample = repository.get_sample(
                session=session, sample_id=reference_id, owner_id=user.id
            )
            if sample is None:
                raise NotFound(f"Voice sample '{reference_id}' not found")
            return READY if sample.status == SampleStatus.READY else str(sample.status)
        if reference_id.startswith(CLONE_PREFIX):
            clone = repository.get_clone(session=session, clone_id=reference_id, owner_id=user.id)
            if clone is None:
                raise NotFound(f"Voice model '{reference_id}' not found")
            return READY if clone.status == CloneStatus.READY else str(clone.status)
    catalogue.preset(reference_id)  # NotFound unless the preset exists here
    return READY


def _visible(
    sessions: sessionmaker[Session],
    user: User,
    neighbours: list[Neighbour],
    exclude: str,
    catalogue: VoiceCatalogue,
    limit: int,
) -> list[tuple[Voice, float]]:
    """The neighbours the user may see, as voices, in order."""
    found: list[tuple[Voice, float]] = []
    with session_scope(sessions) as session:
        for neighbour in neighbours:
            if neighbour.id == exclude:
                continue
            voice = catalogue.visible(session=session, owner_id=user.id, voice_id=neighbour.id)
            if voice is not None:
                found.append((voice, round(neighbour.similarity, 4)))
    return found[:limit]
