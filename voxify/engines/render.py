"""One synthesis request rendered by an engine: speech, clone conversion, then effects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from voxify.audio.effects import apply_effects
from voxify.engines.base import Audio, Engine
from voxify.engines.conversion import ConversionParams, convert


@dataclass(frozen=True)
class SynthesisRequest:
    """Everything an engine replica needs; plain data so it crosses process boundaries."""

    text: str
    voice_id: str = "default_voice_001"
    language: str = "en-US"
    speed: float = 1.0
    pitch: float = 1.0
    volume: float = 1.0
    sample_rate: int | None = None  # None: the engine's native rate
    conversion: dict[str, Any] | None = None  # a CPU clone's ConversionParams, as stored
    latents_key: str | None = None  # a clone's XTTS conditioning latents in the blob store
    engine: str = "piper"  # "piper" (CPU, with ``conversion`` for a CPU clone) or "xtts"
    speaker: str | None = None  # an XTTS studio speaker of speakers_xtts.pth
    seed: int | None = None  # XTTS sampling seed: the same seed gives the same audio


def render(engine: Engine, request: SynthesisRequest) -> Audio:
    """Synthesize one request and apply its effects."""
    audio = engine.synthesize(request.text, speed=request.speed)
    return finish(audio, request)


def render_batch(engine: Engine, requests: Sequence[SynthesisRequest]) -> list[Audio]:
    """Synthesize several requests in one batched engine call, then apply each one's effects."""
    audios = engine.synthesize_batch(
        [r.text for r in requests], speeds=[r.speed for r in requests]
    )
    return [finish(audio, request) for audio, request in zip(audios, requests, strict=True)]


def finish(audio: Audio, request: SynthesisRequest) -> Audio:
    """An engine's raw speech made into what the request asked for: clone, pitch, level, rate."""
    pitch = request.pitch
    if request.conversion is not None:
        # The clone's WORLD pass applies the user's pitch too: one analysis, not two.
        audio = convert(audio, ConversionParams.from_dict(request.conversion), pitch=pitch)
        pitch = 1.0
    return apply_effects(
        audio,
        pitch=pitch,
        volume=request.volume,
        sample_rate=request.sample_rate or audio.sample_rate,
    )
