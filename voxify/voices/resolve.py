"""Which voice a request speaks with: a preset, the caller's clone, or their selected voice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from voxify.db.models import User, VoiceClone
from voxify.engines.languages import XTTS_LANGUAGES
from voxify.engines.render import SynthesisRequest
from voxify.errors import InvalidParameter, InvalidState, NotFound
from voxify.voices import repository
from voxify.voices.library import DEFAULT_VOICE, PIPER_LANGUAGES, Voice, get_voice

CLONE_PREFIX = "vc_"
XTTS_CLONE_NOTE = "XTTS v2 zero-shot clone from the samples' conditioning latents"
CPU_CLONE_NOTE = (
    "CPU clone: Piper speech converted toward the samples' speaker with the WORLD vocoder "
    "(F0 statistics, spectral envelope warp and equalisation) - an approximation"
)


def clone_voice(clone: VoiceClone, *, xtts_available: bool) -> Voice:
    """A clone as a library voice (type ``custom``), visible to its owner only.

    A clone with XTTS latents speaks with XTTS and XTTS's languages where the deployment runs
    XTTS; elsewhere it is shown (and speaks) as what it then is, a CPU clone in Piper's language.
    """
    xtts = clone.latents_blob_key is not None and xtts_available
    return Voice(
        voice_model_id=clone.id,
        name=clone.name,
        type="custom",
        engine="xtts" if xtts else "piper",
        # A CPU clone speaks what the Piper voice speaks, whatever its samples' language.
        language=clone.language if xtts else PIPER_LANGUAGES[0],
        languages=tuple(XTTS_LANGUAGES.values()) if xtts else PIPER_LANGUAGES,
        description=clone.description or "Personal voice clone created from user samples",
        tags=("custom", "personal"),
        owner_id=clone.user_id,
        quality_score=None if clone.similarity is None else round(clone.similarity, 3),
        created_at=clone.created_at,
        extra={
            "clone_id": clone.id,
            "status": clone.status,
            "samples_language": clone.language,
            "speaker_similarity": clone.similarity,
            "baseline_similarity": clone.baseline_similarity,
            "method": XTTS_CLONE_NOTE if xtts else CPU_CLONE_NOTE,
        },
        conversion=None if xtts else clone.conversion,
        latents_key=clone.latents_blob_key if xtts else None,
    )


def find_voice(*, session: Session, owner_id: str, voice_id: str,
               xtts_speakers: Sequence[str] | None) -> Voice:
    """A preset, or the owner's ready clone; NotFound for anything else.

    ``xtts_speakers`` are the deployment's XTTS studio speakers, None where it runs no XTTS.
    """
    if not voice_id.startswith(CLONE_PREFIX):
        return get_voice(voice_id, xtts_speakers)
    clone = repository.get_clone(session=session, clone_id=voice_id, owner_id=owner_id)
    if clone is None:
        raise NotFound(f"Voice model '{voice_id}' not found")
    if clone.status != "ready" or clone.conversion is None:
        raise InvalidState(f"Voice clone '{voice_id}' is {clone.status}; it speaks once ready")
    return clone_voice(clone, xtts_available=xtts_speakers is not None)


def resolve_voice(*, session: Session, user: User, voice_id: str | None, language: str,
                  xtts_speakers: Sequence[str] | None) -> Voice:
    """The voice a request names, else the user's selected voice, else the default preset."""
    chosen = voice_id or user.selected_voice_id or DEFAULT_VOICE.voice_model_id
    voice = find_voice(session=session, owner_id=user.id, voice_id=chosen,
                       xtts_speakers=xtts_speakers)
    if not voice.supports_language(language):
        hint = ("" if xtts_speakers is not None or voice.type != "custom" else
                "; other languages need the XTTS engine, which this deployment does not run")
        raise InvalidParameter(
            f"Voice '{voice.voice_model_id}' does not speak '{language}'{hint}",
            details={"supported_languages": list(voice.languages)},
        )
    return voice


def synthesis_request(
    voice: Voice, *, text: str, language: str, **options: Any
) -> SynthesisRequest:
    """What a synthesizer replica needs to speak ``text`` in ``voice``."""
    return SynthesisRequest(text=text, voice_id=voice.voice_model_id, language=language,
                            engine=voice.engine, conversion=voice.conversion,
                            latents_key=voice.latents_key, speaker=voice.speaker, **options)
