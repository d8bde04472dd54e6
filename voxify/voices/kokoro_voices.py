"""Kokoro's 54 v1.0 voices as library presets: who each one is, and blends of them.

A pack's name says its language and gender (``af_``: American female); the rest of each row
is the library's description of the voice (grades from the Kokoro-82M model card).
"""

from __future__ import annotations

from collections.abc import Sequence

from voxify.engines.languages import language_name
from voxify.voices.blends import Blend, blend_spec
from voxify.voices.library import Voice

KOKORO_PREFIX = "kokoro_"
KOKORO_RATE = 24000
# Pack prefix -> (language the voice speaks, accent tag). Japanese and Mandarin voices need
# phonemizers this deployment does not ship: they speak English, with their accent.
LANGUAGES = {
    "a": ("en-US", "american"),
    "b": ("en-GB", "british"),
    "e": ("es-ES", "spanish"),
    "f": ("fr-FR", "french"),
    "h": ("hi-IN", "hindi"),
    "i": ("it-IT", "italian"),
    "p": ("pt-BR", "brazilian"),
    "j": ("en-US", "japanese"),
    "z": ("en-US", "mandarin"),
}
# name: grade, age group, descriptive tags
VOICES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "af_heart": ("A", "adult", ("warm", "gentle", "expressive")),
    "af_alloy": ("C", "adult", ("neutral", "clear")),
    "af_aoede": ("C+", "adult", ("soft", "calm")),
    "af_bella": ("A-", "young adult", ("bright", "energetic", "expressive")),
    "af_jessica": ("D", "young adult", ("casual", "bright")),
    "af_kore": ("C+", "adult", ("calm", "clear")),
    "af_nicole": ("B-", "adult", ("whispery", "soft", "gentle", "asmr")),
    "af_nova": ("C", "adult", ("clear", "professional")),
    "af_river": ("D", "adult", ("calm", "soft")),
    "af_sarah": ("C+", "adult", ("friendly", "clear")),
    "af_sky": ("C-", "young adult", ("light", "gentle")),
    "am_adam": ("F+", "adult", ("deep", "casual")),
    "am_echo": ("D", "adult", ("neutral", "clear")),
    "am_eric": ("D", "adult", ("professional", "clear")),
    "am_fenrir": ("C+", "adult", ("deep", "strong")),
    "am_liam": ("D", "young adult", ("friendly", "casual")),
    "am_michael": ("C+", "adult", ("warm", "calm", "narrator")),
    "am_onyx": ("D", "adult", ("deep", "serious")),
    "am_puck": ("C+", "young adult", ("playful", "energetic")),
    "am_santa": ("D-", "senior", ("jolly", "deep", "character")),
    "bf_alice": ("D", "adult", ("clear", "crisp")),
    "bf_emma": ("B-", "adult", ("warm", "gentle", "narrator")),
    "bf_isabella": ("C", "adult", ("elegant", "soft")),
    "bf_lily": ("D", "young adult", ("light", "friendly")),
    "bm_daniel": ("D", "adult", ("calm", "professional")),
    "bm_fable": ("C", "adult", ("storyteller", "warm")),
    "bm_george": ("C", "senior", ("deep", "distinguished", "narrator")),
    "bm_lewis": ("D+", "adult", ("deep", "serious")),
    "ef_dora": ("C", "adult", ("warm", "clear")),
    "em_alex": ("C", "adult", ("clear", "friendly")),
    "em_santa": ("D", "senior", ("jolly", "character")),
    "ff_siwis": ("B-", "adult", ("clear", "gentle")),
    "hf_alpha": ("C", "adult", ("clear", "calm")),
    "hf_beta": ("C", "adult", ("warm", "soft")),
    "hm_omega": ("C", "adult", ("deep", "calm")),
    "hm_psi": ("C", "adult", ("clear", "neutral")),
    "if_sara": ("C", "adult", ("bright", "clear")),
    "im_nicola": ("C", "adult", ("warm", "calm")),
    "jf_alpha": ("C+", "adult", ("clear", "gentle")),
    "jf_gongitsune": ("C", "adult", ("storyteller", "soft")),
    "jf_nezumi": ("C-", "young adult", ("light", "playful")),
    "jf_tebukuro": ("C", "adult", ("gentle", "soft")),
    "jm_kumo": ("C-", "adult", ("calm", "deep")),
    "pf_dora": ("C", "adult", ("warm", "clear")),
    "pm_alex": ("C", "adult", ("clear", "friendly")),
    "pm_santa": ("D", "senior", ("jolly", "character")),
    "zf_xiaobei": ("D", "adult", ("bright", "clear")),
    "zf_xiaoni": ("D", "adult", ("soft", "gentle")),
    "zf_xiaoxiao": ("D", "young adult", ("bright", "light")),
    "zf_xiaoyi": ("D", "adult", ("warm", "clear")),
    "zm_yunjian": ("D", "adult", ("deep", "strong")),
    "zm_yunxi": ("D", "young adult", ("clear", "friendly")),
    "zm_yunxia": ("D", "young adult", ("light", "bright")),
    "zm_yunyang": ("D", "adult", ("professional", "narrator")),
}
PREVIEW_TEXT = "Hello, this is a preview of my voice."
PREVIEW_TEXTS = {
    "es-ES": "Hola, así suena mi voz.",
    "fr-FR": "Bonjour, voici un aperçu de ma voix.",
    "hi-IN": "नमस्ते, यह मेरी आवाज़ का एक नमूना है।",
    "it-IT": "Ciao, questa è un'anteprima della mia voce.",
    "pt-BR": "Olá, esta é uma prévia da minha voz.",
}
_GRADE_SCORES = {"A": 0.95, "B": 0.85, "C": 0.75, "D": 0.6, "F": 0.4}


def pack_language(name: str) -> str:
    """The language a stock pack speaks here."""
    return LANGUAGES[name[0]][0]


def kokoro_voice(name: str) -> Voice:
    """A stock Kokoro pack as a preset: ``af_heart`` -> ``kokoro_af_heart``."""
    language, accent = LANGUAGES[name[0]]
    gender = "female" if name[1] == "f" else "male"
    grade, age, descriptors = VOICES.get(name, ("C", "adult", ()))
    title = name.split("_", 1)[1].capitalize()
    native = language_name(language)
    spoken = f"{native} ({accent} accent)" if accent in ("japanese", "mandarin") else native
    return Voice(
        voice_model_id=f"{KOKORO_PREFIX}{name}",
        name=f"{title} ({spoken})",
        type="preset",
        engine="kokoro",
        language=language,
        # Kokoro's voices speak any language it phonemizes; English, accented, is offered.
        languages=(language,) if language.startswith("en") else (language, "en-US"),
        description=(
            f"Kokoro-82M voice '{name}': {age} {gender}, {accent} accent, model-card grade "
            f"{grade}. Neural; on a CPU slower than Piper (docs/benchmarks.md)."
        ),
        tags=(gender, age.replace(" ", "-"), accent, "neural", "kokoro", *descriptors),
        sample_rate=KOKORO_RATE,
        quality_score=_GRADE_SCORES[grade[0]],
        gender=gender,
        age_group=age,
        accent=accent,
        style=((name, 1.0),),
        preview_text=PREVIEW_TEXTS.get(language, PREVIEW_TEXT),
    )


def blend_voice(blend: Blend, parents: Sequence[Voice]) -> Voice:
    """A blend of stock packs, spoken under its canonical spelling as its id."""
    spec = blend_spec(blend)
    first = parents[0]
    genders = {p.gender for p in parents}
    return Voice(
        voice_model_id=spec,
        name=" + ".join(
            f"{p.name.split(' (')[0]} {w:.0%}" for p, (_, w) in zip(parents, blend, strict=True)
        ),
        type="preset",
        engine="kokoro",
        language=first.language,
        languages=first.languages,
        description=f"A Kokoro blend of {', '.join(n for n, _ in blend)}",
        tags=("blend", "neural", "kokoro", *(g for g in genders if g and len(genders) == 1)),
        sample_rate=KOKORO_RATE,
        gender=first.gender if len(genders) == 1 else None,
        accent=first.accent,
        style=blend,
        extra={"blend": [{"voice": n, "weight": w} for n, w in blend]},
    )
