"""The voice catalogue: which voices this deployment offers, and which one a request means.

Built once per process from what the deployment runs (Piper always; Kokoro's voice packs and
XTTS's studio speakers where those pools exist) and injected wherever a voice is looked up.
Kokoro blends (``af_bella(2)+af_sky(1)``) are accepted wherever a voice id is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from voxify.db.models import User, VoiceClone
from voxify.engines.languages import XTTS_LANGUAGES, kokoro_language
from voxify.errors import EngineUnavailable, InvalidParameter, InvalidState, NotFound
from voxify.status import CloneStatus
from voxify.voices import repository
from voxify.voices.blends import is_blend_spec, parse_blend
from voxify.voices.kokoro_voices import KOKORO_PREFIX, KOKORO_RATE, blend_voice, kokoro_voice
from voxify.voices.library import (
    DEFAULT_VOICE,
    PIPER_LANGUAGES,
    PRESETS,
    XTTS_PREFIX,
    Voice,
    studio_voice,
)

CLONE_PREFIX = "vc_"
XTTS_CLONE_NOTE = "XTTS v2 zero-shot clone from the samples' conditioning latents"
KOKORO_CLONE_NOTE = (
    "Kokoro style fitted to the samples: a weighted mix of stock Kokoro voices found by a "
    "search scored on held-out parts of the samples"
)
BLEND_NOTE = "A saved blend of Kokoro voices"
CPU_CLONE_NOTE = (
    "CPU clone: Piper speech converted toward the samples' speaker with the WORLD vocoder "
    "(F0 statistics, spectral envelope warp and equalisation) - an approximation"
)


class VoiceCatalogue:
    """Presets of every engine this deployment runs, and users' clones as they speak here."""

    def __init__(
        self,
        *,
        xtts_speakers: Sequence[str] | None = None,
        kokoro_voices: Sequence[str] | None = None,
        kokoro_voiceprints: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """``xtts_speakers``: the XTTS pool's studio speakers, ``kokoro_voices``: the Kokoro
        pool's packs; None where that engine does not run. ``kokoro_voiceprints``: the stock
        packs' speaker embeddings, where Kokoro clones can be fitted."""
        self.kokoro_voiceprints = dict(kokoro_voiceprints or {})
        self.xtts_available = xtts_speakers is not None
        self.kokoro_available = kokoro_voices is not None
        self.kokoro_packs = tuple(sorted(kokoro_voices or ()))
        self._presets = {
            v.voice_model_id: v
            for v in (
                *PRESETS,
                *(kokoro_voice(name) for name in self.kokoro_packs),
                *(studio_voice(name) for name in xtts_speakers or ()),
            )
        }

    def presets(self) -> list[Voice]:
        """Every preset voice, Piper's first."""
        return list(self._presets.values())

    def preset(self, voice_id: str) -> Voice:
        """The preset with this id, or a Kokoro blend spelled as one (``af_bella(2)+af_sky``);
        NotFound, or EngineUnavailable for an engine this deployment does not run."""
        voice = self._presets.get(voice_id)
        if voice is not None:
            return voice
        if is_blend_spec(voice_id) and (
            voice_id in self.kokoro_packs or "+" in voice_id or "(" in voice_id
        ):
            return self.blend(voice_id)
        if voice_id.startswith(KOKORO_PREFIX) and not self.kokoro_available:
            raise EngineUnavailable(
                f"Voice '{voice_id}' is a Kokoro voice; this deployment has no Kokoro engine "
                "(run `voxify setup`)",
                details={"voice_id": voice_id},
            )
        if voice_id.startswith(XTTS_PREFIX) and not self.xtts_available:
            raise EngineUnavailable(
                f"Voice '{voice_id}' is an XTTS studio speaker; this deployment runs no XTTS "
                "engine (VOXIFY_XTTS_MODEL_DIR is not set)",
                details={"voice_id": voice_id},
            )
        raise NotFound(f"Voice model '{voice_id}' not found")

    def blend(self, spec: str) -> Voice:
        """A Kokoro blend as a voice; one pack alone is that pack's preset."""
        if not self.kokoro_available:
            raise EngineUnavailable(
                f"Voice '{spec}' names Kokoro voices; this deployment has no Kokoro engine",
                details={"voice_id": spec},
            )
        blend = parse_blend(spec, known=self.kokoro_packs)
        parents = [self._presets[f"{KOKORO_PREFIX}{name}"] for name, _ in blend]
        if len(blend) == 1:
            return parents[0]
        return blend_voice(blend, parents)

    def clone(self, clone: VoiceClone) -> Voice:
        """A clone or saved blend as a library voice (type ``custom``), its owner's only:
        with XTTS where it has latents and XTTS runs, else with the engine it was fitted to."""
        if clone.latents_blob_key is not None and self.xtts_available:
            return self._cpu_or_xtts_clone(clone)
        if clone.style and (clone.engine == "kokoro" or clone.conversion is None):
            if self.kokoro_available:
                return self._kokoro_custom(clone)
            if clone.conversion is None:
                raise EngineUnavailable(
                    f"Voice '{clone.id}' is a Kokoro voice; this deployment has no Kokoro "
                    "engine (run `voxify setup`)",
                    details={"voice_id": clone.id},
                )
        return self._cpu_or_xtts_clone(clone)  # a Kokoro clone keeps its Piper fit too

    def speaks(self, clone: VoiceClone) -> bool:
        """Whether a ready clone can speak on this deployment."""
        if clone.latents_blob_key is not None and self.xtts_available:
            return True
        return clone.conversion is not None or (bool(clone.style) and self.kokoro_available)

    def _kokoro_custom(self, clone: VoiceClone) -> Voice:
        """A Kokoro style of the user's: a saved blend, or a clone's fitted style."""
        kokoro = clone.style or {}
        style = tuple((str(pack), float(weight)) for pack, weight in kokoro.get("blend", ()))
        fitted = bool(clone.sample_ids)
        return Voice(
            voice_model_id=clone.id,
            name=clone.name,
            type="custom",
            engine="kokoro",
            language=kokoro_language(clone.language),
            languages=(kokoro_language(clone.language),),
            description=clone.description or "A personal Kokoro voice",
            tags=("custom", "personal", "kokoro", "clone" if fitted else "blend"),
            sample_rate=KOKORO_RATE,
            owner_id=clone.user_id,
            quality_score=None if clone.similarity is None else round(clone.similarity, 3),
            created_at=clone.created_at,
            extra={
                **_clone_extra(clone, KOKORO_CLONE_NOTE if fitted else BLEND_NOTE),
                "blend": [{"voice": pack, "weight": weight} for pack, weight in style],
            },
            style=style,
            conversion=kokoro.get("conversion"),  # WORLD on top, where that scored best
        )

    def _cpu_or_xtts_clone(self, clone: VoiceClone) -> Voice:
        """A clone as a library voice (type ``custom``), visible to its owner only.

        A clone with XTTS latents speaks with XTTS and XTTS's languages where the deployment
        runs XTTS; elsewhere it is shown (and speaks) as what it then is, a CPU clone in
        Piper's language.
        """
        xtts = clone.latents_blob_key is not None and self.xtts_available
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
            extra=_clone_extra(clone, XTTS_CLONE_NOTE if xtts else CPU_CLONE_NOTE),
            conversion=None if xtts else clone.conversion,
            latents_key=clone.latents_blob_key if xtts else None,
        )

    def find(self, *, session: Session, owner_id: str, voice_id: str) -> Voice:
        """A preset, or the owner's ready clone; NotFound for anything else."""
        if not voice_id.startswith(CLONE_PREFIX):
            return self.preset(voice_id)
        clone = repository.get_clone(session=session, clone_id=voice_id, owner_id=owner_id)
        if clone is None:
            raise NotFound(f"Voice model '{voice_id}' not found")
        if clone.status != CloneStatus.READY:
            raise InvalidState(f"Voice clone '{voice_id}' is {clone.status}; it speaks once ready")
        return self.clone(clone)

    def visible(self, *, session: Session, owner_id: str, voice_id: str) -> Voice | None:
        """The voice if ``owner_id`` may speak with it now, else None."""
        try:
            return self.find(session=session, owner_id=owner_id, voice_id=voice_id)
        except (NotFound, InvalidState, EngineUnavailable):
            return None

    def resolve(
        self, *, session: Session, user: User, voice_id: str | None, language: str | None
    ) -> Voice:
        """The voice a request names, else the user's selected voice, else the default preset;
        it must speak ``language`` (None: whatever it speaks)."""
        chosen = voice_id or user.selected_voice_id or DEFAULT_VOICE.voice_model_id
        voice = self.find(session=session, owner_id=user.id, voice_id=chosen)
        if language is not None and not voice.supports_language(language):
            hint = (
                ""
                if self.xtts_available or voice.type != "custom"
                else "; other languages need the XTTS engine, which this deployment does not run"
            )
            raise InvalidParameter(
                f"Voice '{voice.voice_model_id}' does not speak '{language}'{hint}",
                details={"supported_languages": list(voice.languages)},
            )
        return voice

    def available(self, *, session: Session, user: User) -> list[Voice]:
        """Every voice the user may speak with: presets, then their ready clones."""
        clones = repository.ready_clones(session=session, owner_id=user.id)
        return self.presets() + [self.clone(c) for c in clones if self.speaks(c)]


def _clone_extra(clone: VoiceClone, method: str) -> dict[str, Any]:
    """What the API shows of a custom voice beside the library fields."""
    return {
        "clone_id": clone.id,
        "status": clone.status,
        "samples_language": clone.language,
        "speaker_similarity": clone.similarity,
        "baseline_similarity": clone.baseline_similarity,
        "method": method,
    }
