"""Nearest voices to a sample or voice, among those a user may see (the vector index)."""

from __future__ import annotations

import numpy as np
from sqlalchemy.orm import Session

from voxify.db.models import User
from voxify.errors import InvalidState, NotFound
from voxify.ports import Synthesis, Voiceprints
from voxify.speech import SynthesisRequest
from voxify.status import CloneStatus, SampleStatus
from voxify.voices import repository
from voxify.voices.catalogue import CLONE_PREFIX, VoiceCatalogue
from voxify.voices.library import CALIBRATION_TEXTS, PRESETS, Voice

PUBLIC_OWNER = "public"


def ensure_preset_vectors(voiceprints: Voiceprints, synthesis: Synthesis) -> int:
    """Index every Piper preset not yet in the index; returns how many were added.

    XTTS studio speakers are not indexed: rendering calibration speech for each of them would
    hold a GPU replica for minutes on the first query.
    """
    added = 0
    for voice in PRESETS:
        if voiceprints.vector(voice.voice_model_id) is not None:
            continue
        audio = synthesis.synthesize(
            SynthesisRequest(text=" ".join(CALIBRATION_TEXTS), voice_id=voice.voice_model_id)
        )
        voiceprints.store(
            voice.voice_model_id,
            voiceprints.embed(audio),
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


def query_vector(
    *,
    session: Session,
    voiceprints: Voiceprints,
    user: User,
    reference_id: str,
    catalogue: VoiceCatalogue,
) -> np.ndarray:
    """The stored embedding of the user's sample or clone, or of a preset voice."""
    if reference_id.startswith("vs_"):
        sample = repository.get_sample(session=session, sample_id=reference_id, owner_id=user.id)
        if sample is None:
            raise NotFound(f"Voice sample '{reference_id}' not found")
        ready = sample.status == SampleStatus.READY
        state = sample.status
    elif reference_id.startswith(CLONE_PREFIX):
        clone = repository.get_clone(session=session, clone_id=reference_id, owner_id=user.id)
        if clone is None:
            raise NotFound(f"Voice model '{reference_id}' not found")
        ready, state = clone.status == CloneStatus.READY, clone.status
    else:
        catalogue.preset(reference_id)  # NotFound unless the preset exists here
        ready, state = True, "preset"
    vector = voiceprints.vector(reference_id) if ready else None
    if vector is None:
        raise InvalidState(
            f"'{reference_id}' has no speaker embedding yet (status {state}); "
            "process the sample or wait for the clone to be ready"
        )
    return vector


def similar_voices(
    *,
    session: Session,
    voiceprints: Voiceprints,
    user: User,
    vector: np.ndarray,
    exclude: str,
    limit: int,
    catalogue: VoiceCatalogue,
) -> list[tuple[Voice, float]]:
    """Presets and the user's ready clones, most similar first, with cosine similarity."""
    where = {
        "$and": [
            {"kind": {"$in": ["preset", "clone"]}},
            {"owner_id": {"$in": [user.id, PUBLIC_OWNER]}},
        ]
    }
    found: list[tuple[Voice, float]] = []
    for neighbour in voiceprints.nearest(vector, n=limit + 1, where=where):
        if neighbour.id == exclude:
            continue
        voice = catalogue.visible(session=session, owner_id=user.id, voice_id=neighbour.id)
        if voice is not None:
            found.append((voice, round(neighbour.similarity, 4)))
    return found[:limit]
