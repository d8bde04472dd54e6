"""The voice library: which voices exist, what each supports, which engine speaks it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from voxify.audio.encode import FORMATS
from voxify.engines.languages import XTTS_LANGUAGES

PIPER_LANGUAGES = ("en-US",)
SPEED_RANGE = (0.5, 2.0)
PITCH_RANGE = (0.5, 2.0)
SUPPORTED_FORMATS = tuple(FORMATS)
PRESETS_CREATED_AT = datetime(2026, 11, 1, tzinfo=UTC)
# Harvard sentences: short and phonetically balanced, about 12 s of speech. A voice's speaker
# embedding and a clone's calibration are both taken over them.
CALIBRATION_TEXTS = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
)


@dataclass(frozen=True)
class Voice:
    """A voice anyone can speak with; ``engine`` names the engine that renders it."""

    voice_model_id: str
    name: str
    type: str
    engine: str
    language: str
    languages: tuple[str, ...]
    description: str
    tags: tuple[str, ...] = ()
    sample_rate: int = 22050
    preview_text: str = "Hello, this is a preview of my voice."
    owner_id: str | None = None
    quality_score: float | None = None
    created_at: datetime = PRESETS_CREATED_AT
    extra: dict[str, Any] = field(default_factory=dict)  # shown in the API as they are
    conversion: dict[str, Any] | None = None  # a CPU clone's conversion parameters
    latents_key: str | None = None  # an XTTS clone's conditioning latents (blob key)
    speaker: str | None = None  # an XTTS studio speaker's name in speakers_xtts.pth
    style: tuple[tuple[str, float], ...] | None = None  # Kokoro packs and their weights
    gender: str | None = None
    age_group: str | None = None
    accent: str | None = None

    def supports_language(self, language: str) -> bool:
        """True when the voice speaks ``language`` (matching on the primary subtag)."""
        primary = language.split("-")[0].lower()
        return any(lang.split("-")[0].lower() == primary for lang in self.languages)

    def public(self, *, max_text_length: int) -> dict[str, Any]:
        """The voice as the API shows it (seed 000 "Voice Model Library")."""
        return {
            "voice_model_id": self.voice_model_id,
            "name": self.name,
            "type": self.type,
            "engine": self.engine,
            "tags": list(self.tags),
            "gender": self.gender,
            "age_group": self.age_group,
            "accent": self.accent,
            "language": self.language,
            "languages": list(self.languages),
            "description": self.description,
            "preview_text": self.preview_text,
            "owner_id": self.owner_id,
            "quality_score": self.quality_score,
            "model_config": {
                "sample_rate": self.sample_rate,
                "supported_formats": list(SUPPORTED_FORMATS),
                "max_text_length": max_text_length,
                "supports_speed_range": list(SPEED_RANGE),
                "supports_pitch_range": list(PITCH_RANGE),
            },
            "created_at": self.created_at,
            **self.extra,
        }


DEFAULT_VOICE = Voice(
    voice_model_id="default_voice_001",
    name="Joe (US English)",
    type="preset",
    engine="piper",
    language="en-US",
    languages=PIPER_LANGUAGES,
    description="Piper en_US-joe-medium: a clear adult male US English voice, runs on any CPU.",
    tags=("male", "adult", "american", "neutral", "english", "fast"),
    quality_score=0.9,
    gender="male",
    age_group="adult",
    accent="american",
)

PRESETS: tuple[Voice, ...] = (DEFAULT_VOICE,)
XTTS_PREFIX = "xtts_"


def studio_voice(speaker: str) -> Voice:
    """An XTTS studio speaker as a preset voice: ``Ana Florence`` -> ``xtts_ana_florence``."""
    slug = re.sub(r"[^a-z0-9]+", "_", speaker.lower()).strip("_")
    return Voice(
        voice_model_id=f"{XTTS_PREFIX}{slug}",
        name=f"{speaker} (XTTS studio)",
        type="preset",
        engine="xtts",
        language="en",
        languages=tuple(XTTS_LANGUAGES.values()),
        description=f"XTTS v2 studio speaker '{speaker}': 17 languages, needs the XTTS engine.",
        tags=("studio", "multilingual", "xtts"),
        sample_rate=24000,
        quality_score=None,
        speaker=speaker,
    )
