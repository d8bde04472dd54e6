"""One synthesis request rendered by an engine: speech, clone conversion, then effects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from voxify.audio.effects import apply_effects
from voxify.engines.base import Engine
from voxify.engines.conversion import ConversionParams, convert
from voxify.speech import Audio, SynthesisRequest


def render(engine: Engine, request: SynthesisRequest) -> Audio:
    """Synthesize one request and apply its effects."""
    audio = engine.synthesize(request.text, speed=request.speed, timestamps=request.timestamps)
    return finish(audio, request)


def render_batch(engine: Engine, requests: Sequence[SynthesisRequest]) -> list[Audio]:
    """Synthesize several requests in one batched engine call, then apply each one's effects."""
    audios = engine.synthesize_batch([r.text for r in requests], speeds=[r.speed for r in requests])
    return [finish(audio, request) for audio, request in zip(audios, requests, strict=True)]


def finish(audio: Audio, request: SynthesisRequest) -> Audio:
    """An engine's raw speech made into what the request asked for: clone, pitch, level, rate."""
    words = audio.words
    pitch = request.pitch
    if request.conversion is not None:
        # The clone's WORLD pass applies the user's pitch too: one analysis, not two.
        audio = convert(audio, ConversionParams.from_dict(request.conversion), pitch=pitch)
        pitch = 1.0
    finished = apply_effects(
        audio,
        pitch=pitch,
        volume=request.volume,
        sample_rate=request.sample_rate or audio.sample_rate,
    )
    # Conversion, pitch and resampling keep every sample's time: word timings still hold.
    return replace(finished, words=words)
