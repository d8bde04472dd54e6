"""Every output format: whole files and piece-by-piece streams decode to the speech put in,
at the rates each format can carry; rates it cannot carry are refused before any work."""

from __future__ import annotations

import io
import math
import typing

import av
import numpy as np
import pytest
import soundfile as sf

from tests.unit.conftest import seeded_piper
from voxify.audio.effects import apply_effects
from voxify.audio.encode import FORMATS, RATE_SETS, content_type, encode, output_rate
from voxify.audio.stream_encode import stream_encoder
from voxify.jobs.schemas import OutputFormat
from voxify.speech import Audio

# How each format is read back: libsndfile where it can, else FFmpeg (PyAV).
_RAW = {"pcm": "PCM_16", "ulaw": "ULAW", "alaw": "ALAW"}
_AV = {"aac", "opus"}
# Lossy codecs add padding (encoder delay, whole frames); Opus pre-skip is 6.5 ms.
_DURATION_SLACK_S = 0.08


def _slack(fmt: str, rate: int) -> float:
    """ADTS cannot signal AAC's priming: up to two 1024-sample frames more than was put in."""
    return 2 * 1024 / rate + 0.01 if fmt == "aac" else _DURATION_SLACK_S


@pytest.fixture(scope="module")
def speech() -> Audio:
    return seeded_piper().synthesize("The quick brown fox jumps over the lazy dog near the river.")


def decode(data: bytes, fmt: str, rate: int, *, ffmpeg: bool = False) -> tuple[np.ndarray, int]:
    """Mono float samples and their rate."""
    if fmt in _RAW:
        samples, _ = sf.read(
            io.BytesIO(data), samplerate=rate, channels=1, format="RAW", subtype=_RAW[fmt]
        )
        return np.asarray(samples, dtype=np.float64), rate
    if fmt in _AV or ffmpeg:
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.audio[0]
            frames = [f.to_ndarray().reshape(-1) for f in container.decode(stream)]
            decoded_rate = stream.rate
        samples = np.concatenate(frames).astype(np.float64)
        if np.abs(samples).max() > 1.5:  # integer samples (FLAC)
            samples /= 32768.0
        return samples, decoded_rate
    samples, decoded_rate = sf.read(io.BytesIO(data), dtype="float64")
    return samples, decoded_rate


def _rms_db(samples: np.ndarray) -> float:
    return 20 * math.log10(float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))))


def _cases() -> list[tuple[str, int]]:
    cases = []
    for fmt in sorted(FORMATS):
        rates = sorted(
            RATE_SETS.get(fmt, {16000, 22050, 44100}) & {8000, 16000, 22050, 24000, 44100}
        )
        cases += [(fmt, rate) for rate in rates]
    return cases


@pytest.mark.parametrize(("fmt", "rate"), _cases())
def test_every_format_round_trips(speech: Audio, fmt: str, rate: int) -> None:
    audio = apply_effects(speech, sample_rate=rate) if rate != speech.sample_rate else speech
    samples, decoded_rate = decode(encode(audio, fmt), fmt, rate)
    # Opus always decodes at 48 kHz; everything else at the rate it was given.
    assert decoded_rate == (48000 if fmt == "opus" else rate)
    assert len(samples) / decoded_rate == pytest.approx(audio.duration, abs=_slack(fmt, rate))
    assert _rms_db(samples) == pytest.approx(_rms_db(audio.samples), abs=1.5)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_streamed_pieces_decode_as_one_file(speech: Audio, fmt: str) -> None:
    rate = output_rate(fmt, None, speech.sample_rate)
    audio = apply_effects(speech, sample_rate=rate) if rate != speech.sample_rate else speech
    encoder = stream_encoder(fmt, rate)
    pieces = [encoder.feed(part) for part in np.array_split(audio.samples, 8)]
    tail = encoder.close()
    # The first bytes leave before the speech is over (Vorbis's pages may wait for close).
    if fmt != "ogg":
        assert any(pieces[:4]), fmt
    data = b"".join(pieces) + tail
    if fmt == "wav":  # a streamed WAV says "length unknown"; read its samples after the header
        samples, decoded_rate = decode(data[44:], "pcm", rate)
    else:  # a streamed FLAC's header cannot give the length; libsndfile wants it, FFmpeg not
        samples, decoded_rate = decode(data, fmt, rate, ffmpeg=fmt == "flac")
    assert len(samples) / decoded_rate == pytest.approx(audio.duration, abs=_slack(fmt, rate))
    assert _rms_db(samples) == pytest.approx(_rms_db(audio.samples), abs=1.5)


def test_output_rates() -> None:
    assert output_rate("wav", None, 22050) == 22050  # the voice's own
    assert output_rate("mp3", 16000, 22050) == 16000  # as asked
    assert output_rate("opus", None, 22050) == 24000  # nearest Opus rate above
    assert output_rate("opus", None, 96000) == 48000  # Opus's highest
    assert output_rate("ulaw", None, 22050) == 8000  # telephony is 8 kHz
    assert output_rate("aac", None, 24000) == 24000
    for fmt, rate in (("mp3", 9000), ("ulaw", 16000), ("opus", 22050), ("aac", 9000)):
        with pytest.raises(ValueError, match=f"{fmt} cannot carry {rate} Hz"):
            output_rate(fmt, rate, 22050)


def test_media_types_and_schema_agree() -> None:
    assert set(typing.get_args(OutputFormat)) == set(FORMATS)
    assert content_type("pcm", 24000) == "audio/pcm;rate=24000;channels=1"
    assert content_type("mp3", 22050) == "audio/mpeg"
    assert content_type("ulaw", 8000) == "audio/basic"
    with pytest.raises(ValueError, match="unsupported format"):
        stream_encoder("aiff", 22050)
