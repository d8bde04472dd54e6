"""What a caller asks to hear, and the rules every door applies to it before any work."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from voxify.admin.runtime import RuntimeLimits
from voxify.audio.encode import FORMATS, output_rate
from voxify.errors import IncompatibleOptions
from voxify.speech import SynthesisRequest
from voxify.voices.library import Voice


class Door(StrEnum):
    """How the speech leaves: each door has its own text limit (runtime limits)."""

    SYNC = "sync"
    STREAM = "stream"
    JOB = "job"

    def max_chars(self, limits: RuntimeLimits) -> int:
        """The longest text this door accepts."""
        return {
            Door.SYNC: limits.max_sync_text_chars,
            Door.STREAM: limits.max_stream_text_chars,
            Door.JOB: limits.max_job_text_chars,
        }[self]


@dataclass(frozen=True)
class Speech:
    """One synthesis as a caller asks for it, whatever door it came through."""

    text: str
    voice_id: str | None = None
    language: str | None = "en-US"  # None: the voice's own language
    output_format: str = "wav"
    sample_rate: int | None = None  # None: the voice's own, or the nearest the format carries
    speed: float = 1.0
    pitch: float = 1.0
    volume: float = 1.0
    seed: int | None = None
    timestamps: bool = False  # when each word sounds, where the engine can tell


@dataclass(frozen=True)
class Admitted:
    """A synthesis that passed every rule: the voice it speaks with and what to render."""

    voice: Voice
    request: SynthesisRequest


def _language(voice: Voice, asked: str | None) -> str:
    """The language to render in: the asked one, except that a Kokoro voice keeps its own
    variant of it (a British voice asked for "en" or "en-US" still phonemizes British)."""
    if asked is None:
        return voice.language
    same = voice.language.split("-")[0].lower() == asked.split("-")[0].lower()
    if voice.engine == "kokoro" and same:
        return voice.language
    return asked


def plan_request(
    voice: Voice, speech: Speech, *, text: str, seed: int | None = None
) -> SynthesisRequest:
    """The engine request for ``text`` in ``voice``; IncompatibleOptions when the output
    format cannot carry the sample rate the voice would be rendered at."""
    fmt = speech.output_format
    if fmt not in FORMATS:
        raise IncompatibleOptions(
            f"Unknown output format '{fmt}'", details={"supported_formats": list(FORMATS)}
        )
    try:
        rate = output_rate(fmt, speech.sample_rate, voice.sample_rate)
    except ValueError as exc:
        raise IncompatibleOptions(
            f"{exc} (voice '{voice.voice_model_id}', engine {voice.engine})",
            details={
                "output_format": fmt,
                "sample_rate": speech.sample_rate,
                "engine": voice.engine,
            },
        ) from exc
    return SynthesisRequest(
        text=text,
        voice_id=voice.voice_model_id,
        language=_language(voice, speech.language),
        engine=voice.engine,
        conversion=voice.conversion,
        latents_key=voice.latents_key,
        speaker=voice.speaker,
        style=voice.style,
        speed=speech.speed,
        pitch=speech.pitch,
        volume=speech.volume,
        sample_rate=rate,
        seed=speech.seed if seed is None else seed,
        timestamps=speech.timestamps,
    )
