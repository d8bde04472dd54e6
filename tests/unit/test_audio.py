"""Effects, encoding and analysis, checked on real synthesized speech where it matters."""

from __future__ import annotations

import io
import math
import struct

import numpy as np
import pytest
import soundfile as sf

from tests.unit.conftest import seeded_piper
from voxify.audio.analysis import decode, estimate_f0, speech_stats
from voxify.audio.effects import LIMIT_CEILING, apply_effects
from voxify.audio.encode import encode, pcm16, wav_header
from voxify.speech import Audio

SR = 22050


@pytest.fixture(scope="module")
def speech() -> Audio:
    return seeded_piper().synthesize("The quick brown fox jumps over the lazy dog near the river.")


def _harmonics(f0: float, seconds: float, first: int = 1, count: int = 10) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(first, first + count))
    return (0.3 * wave / np.max(np.abs(wave))).astype(np.float32)


def _rms_db(samples: np.ndarray) -> float:
    return 20 * math.log10(float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))))


def test_audio_duration() -> None:
    assert Audio(np.zeros(11025, np.float32), SR).duration == pytest.approx(0.5)


# --- effects ---------------------------------------------------------------------------


@pytest.mark.parametrize("ratio", [0.8, 1.25])
def test_pitch_shift_moves_f0_and_keeps_duration(speech: Audio, ratio: float) -> None:
    before = speech_stats(speech.samples, speech.sample_rate)
    shifted = apply_effects(speech, pitch=ratio)
    after = speech_stats(shifted.samples, shifted.sample_rate)
    assert after.median_f0_hz / before.median_f0_hz == pytest.approx(ratio, rel=0.08)
    assert after.duration_s == pytest.approx(before.duration_s, rel=0.02)
    assert abs(after.rms_dbfs - before.rms_dbfs) < 3.0
    assert after.voiced_fraction > 0.15 and after.clipped_fraction == 0.0


def test_pitch_one_leaves_samples_alone(speech: Audio) -> None:
    assert np.array_equal(apply_effects(speech, pitch=1.0).samples, speech.samples)


def test_volume_half_is_minus_six_db(speech: Audio) -> None:
    quieter = apply_effects(speech, volume=0.5)
    assert _rms_db(quieter.samples) - _rms_db(speech.samples) == pytest.approx(-6.02, abs=0.1)


def test_loud_volume_is_limited_not_clipped() -> None:
    # Half a second at a speech-like level, then a burst that volume 2.0 would drive to 1.8.
    quiet, burst = _harmonics(150, 0.5), _harmonics(150, 0.3) * 3.0
    audio = Audio(np.concatenate([quiet, burst]), SR)
    out = apply_effects(audio, volume=2.0).samples
    stats = speech_stats(out, SR)
    assert stats.peak <= LIMIT_CEILING + 1e-6 and stats.clipped_fraction == 0.0
    # Gain reduction stays local: well before the burst the gain is exactly 2.
    guard = SR // 20  # 50 ms, well beyond the limiter's 10 ms ramps
    before = len(quiet) - guard
    np.testing.assert_allclose(out[:before], quiet[:before] * 2.0, atol=1e-6)
    # Limited by gain, not by flattening: the burst keeps its shape, only scaled.
    middle = slice(len(quiet) + guard, len(out) - guard)
    scale = float(np.max(np.abs(out[middle])) / np.max(np.abs(audio.samples[middle])))
    np.testing.assert_allclose(out[middle], audio.samples[middle] * scale, atol=1e-3)


def test_volume_zero_is_silence(speech: Audio) -> None:
    assert not np.any(apply_effects(speech, volume=0.0).samples)


@pytest.mark.parametrize("rate", [16000, 44100])
def test_resampling_gives_the_right_length(speech: Audio, rate: int) -> None:
    out = apply_effects(speech, sample_rate=rate)
    assert out.sample_rate == rate
    assert len(out.samples) == math.ceil(len(speech.samples) * rate / speech.sample_rate)
    assert out.samples.dtype == np.float32
    stats = speech_stats(out.samples, rate)
    assert stats.median_f0_hz == pytest.approx(
        speech_stats(speech.samples, speech.sample_rate).median_f0_hz, rel=0.05
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pitch": 0.49}, "pitch"),
        ({"pitch": 2.01}, "pitch"),
        ({"pitch": math.nan}, "pitch"),
        ({"volume": -0.1}, "volume"),
        ({"volume": 2.5}, "volume"),
        ({"sample_rate": 7999}, "sample_rate"),
        ({"sample_rate": 48001}, "sample_rate"),
    ],
)
def test_out_of_range_effects_are_rejected(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        apply_effects(Audio(np.zeros(100, np.float32), SR), **kwargs)  # type: ignore[arg-type]


# --- encoding ----------------------------------------------------------------------------


def test_formats_refuse_what_they_cannot_carry() -> None:
    with pytest.raises(ValueError, match="mp3 cannot carry 20000 Hz"):
        encode(Audio(np.zeros(100, np.float32), 20000), "mp3")
    with pytest.raises(ValueError, match="ogg cannot carry"):
        encode(Audio(np.zeros(100, np.float32), 250000), "ogg")  # libvorbis would segfault
    with pytest.raises(ValueError, match="empty"):
        encode(Audio(np.zeros(0, np.float32), SR), "flac")
    with pytest.raises(ValueError, match="unsupported format"):
        encode(Audio(np.zeros(100, np.float32), SR), "aiff")


def test_streaming_wav_header_and_pcm16_decode(speech: Audio) -> None:
    header = wav_header(SR)
    assert len(header) == 44 and header[:4] == b"RIFF" and header[8:16] == b"WAVEfmt "
    assert struct.unpack("<I", header[40:44])[0] == 0xFFFFFFFF  # length unknown
    assert struct.unpack("<HHII", header[20:32]) == (1, 1, SR, SR * 2)
    decoded, rate = sf.read(io.BytesIO(header + pcm16(speech)), dtype="float32")
    assert rate == SR and len(decoded) == len(speech.samples)
    np.testing.assert_allclose(decoded, speech.samples, atol=1 / 32767)


def test_pcm16_scales_rounds_and_clips() -> None:
    raw = pcm16(Audio(np.array([0.0, 1.0, -1.0, 1.5, 0.5], np.float32), SR))
    assert list(np.frombuffer(raw, "<i2")) == [0, 32767, -32767, 32767, 16384]


# --- analysis ----------------------------------------------------------------------------


def test_stats_of_silence() -> None:
    stats = speech_stats(np.zeros(SR, np.float32), SR)
    assert stats.rms_dbfs == -120.0 and stats.peak == 0.0
    assert stats.voiced_fraction == stats.active_fraction == stats.median_f0_hz == 0.0


def test_f0_of_a_harmonic_tone() -> None:
    stats = speech_stats(_harmonics(150, 1.0), SR)
    assert stats.median_f0_hz == pytest.approx(150, rel=0.02)
    assert stats.voiced_fraction > 0.9 and stats.active_fraction == 1.0


def test_f0_with_a_missing_fundamental() -> None:
    # Like the joe voice: harmonics 2..11 of 90 Hz and no 90 Hz component at all.
    f0, _ = estimate_f0(_harmonics(90, 1.0, first=2), SR)
    assert float(np.median(f0[f0 > 0])) == pytest.approx(90, rel=0.03)


def test_noise_is_not_voiced() -> None:
    noise = np.random.default_rng(1).normal(0, 0.1, SR).astype(np.float32)
    assert speech_stats(noise, SR).voiced_fraction < 0.1


def test_clipping_is_counted() -> None:
    square = np.clip(_harmonics(200, 0.5) * 10, -1.0, 1.0)
    assert speech_stats(square, SR).clipped_fraction > 0.5


def test_decode_mixes_stereo_to_mono() -> None:
    stereo = np.stack([np.full(1000, 0.4), np.full(1000, 0.2)], axis=1)
    buffer = io.BytesIO()
    sf.write(buffer, stereo, 16000, format="WAV", subtype="FLOAT")
    audio = decode(buffer.getvalue())
    assert audio.sample_rate == 16000 and audio.samples.dtype == np.float32
    np.testing.assert_allclose(audio.samples, 0.3, atol=1e-6)
