"""OpenAI's speech API vocabulary (models, voice names, formats) in Voxify's terms."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from voxify.voices.library import Voice

# OpenAI's voice names and the voice each sounds like, used to pick a preset of that kind.
OPENAI_VOICES: dict[str, str] = {
    "alloy": "neutral",
    "ash": "male",
    "ballad": "male",
    "coral": "female",
    "echo": "male",
    "fable": "male",
    "onyx": "male",
    "nova": "female",
    "sage": "female",
    "shimmer": "female",
    "verse": "male",
    "marin": "female",
    "cedar": "male",
}
PCM_RATE = 24_000  # OpenAI's pcm is 24 kHz; clients assume it
MODEL_CREATED = 1_764_547_200  # 2025-12-01, the "created" the model list reports
# Engines from fastest to best sounding, as measured here (docs/benchmarks.md).
ENGINES_BY_SPEED = ("piper", "kokoro", "xtts")


class Tier(StrEnum):
    FASTEST = "fastest"
    BEST = "best"


MODELS: dict[str, Tier] = {
    "tts-1": Tier.FASTEST,
    "tts-1-hd": Tier.BEST,
    "gpt-4o-mini-tts": Tier.BEST,
}


def engine_for(tier: Tier, engines: Sequence[str]) -> str:
    """The fastest or the best of the engines this deployment runs."""
    ranked = [engine for engine in ENGINES_BY_SPEED if engine in engines]
    if not ranked:
        raise ValueError(f"no known engine among {sorted(engines)}")
    return ranked[0] if tier is Tier.FASTEST else ranked[-1]


def preset_for(name: str, tier: Tier, presets: Sequence[Voice]) -> Voice:
    """The preset an OpenAI voice name speaks with under a model tier: one of the tier's
    engine, English-speaking, the engine's own voice of that name where it has one (Kokoro's
    alloy, echo, fable, nova, onyx), else one of the name's kind where tags say so; the same
    one every time."""
    engine = engine_for(tier, [voice.engine for voice in presets])
    pool = sorted((v for v in presets if v.engine == engine), key=lambda v: v.voice_model_id)
    pool = [v for v in pool if v.accent in (None, "american", "british")] or pool
    namesake = [v for v in pool if v.voice_model_id.endswith(f"_{name}")]
    if namesake:
        return namesake[0]
    kind = OPENAI_VOICES[name]
    matching = [voice for voice in pool if kind in voice.tags] or pool
    same_kind = [other for other, other_kind in OPENAI_VOICES.items() if other_kind == kind]
    return matching[same_kind.index(name) % len(matching)]
