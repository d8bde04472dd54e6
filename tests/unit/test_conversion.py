"""CPU clone conversion on real speech: Piper's voice fitted toward the female fixture speaker."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import welch

from voxify.audio.analysis import speech_stats
from voxify.audio.effects import LIMIT_CEILING
from voxify.embeddings.encoder import SpeakerEncoder, cosine
from voxify.engines.conversion import (
    ConversionParams,
    FitResult,
    VoiceProfile,
    analyze_voice,
    convert,
    fit_conversion,
)
from voxify.engines.piper import PiperEngine
from voxify.speech import Audio
from voxify.voices.library import CALIBRATION_TEXTS

SPEECH = Path(__file__).parents[1] / "fixtures" / "speech"
# Not calibration sentences: the conversion must carry over to text it was not fitted on.
HELD_OUT_TEXT = (
    "It was a bright cold day in April, and the clocks were striking thirteen. "
    "We measured the weather every morning, and the results were rather surprising."
)
# The JSON round trip's largest band change: 0.010-0.099 dB over 24 Piper draws of the held-out
# text (PYTHONPATH=. python loadtests/conversion_round_trip.py); the largest single-bin change was
# 0.07-1.6 dB, over 0.5 in 3 of them. Rounding every parameter to 2 decimals moves a band 0.35-0.5.
BAND_TOLERANCE_DB = 0.3


@pytest.fixture(scope="module")
def female() -> Audio:
    samples, rate = sf.read(SPEECH / "arctic_slt_female_a0009.wav", dtype="float32")
    return Audio(samples, int(rate))


@pytest.fixture(scope="module")
def reference(speaker_encoder: SpeakerEncoder, female: Audio) -> np.ndarray:
    return speaker_encoder.embed(female)


@pytest.fixture(scope="module")
def fitted(
    piper: PiperEngine, speaker_encoder: SpeakerEncoder, female: Audio, reference: np.ndarray
) -> tuple[FitResult, list[float]]:
    """The clone-training fit toward the female speaker (about 10 s here), with its progress."""
    source = [piper.synthesize(text) for text in CALIBRATION_TEXTS]
    reported: list[float] = []
    fit = fit_conversion(
        source,
        [female],
        lambda audio: cosine(speaker_encoder.embed(audio), reference),
        progress=reported.append,
    )
    return fit, reported


@pytest.fixture(scope="module")
def held_out(piper: PiperEngine) -> Audio:
    return piper.synthesize(HELD_OUT_TEXT)


@pytest.fixture(scope="module")
def converted(fitted: tuple[FitResult, list[float]], held_out: Audio) -> Audio:
    return convert(held_out, fitted[0].params)


def test_fit_moves_piper_toward_the_female_speaker(
    fitted: tuple[FitResult, list[float]],
    converted: Audio,
    held_out: Audio,
    speaker_encoder: SpeakerEncoder,
    reference: np.ndarray,
    female: Audio,
) -> None:
    fit, _ = fitted
    # Piper is not deterministic. Measured over runs: plain Piper 0.50-0.51; fitted 0.72-0.74,
    # and 0.67-0.69 on text it was not fitted on.
    assert fit.similarity > fit.baseline_similarity + 0.15, fit
    before = cosine(speaker_encoder.embed(held_out), reference)
    after = cosine(speaker_encoder.embed(converted), reference)
    assert after > before + 0.1, (before, after)
    # Piper speaks near 88 Hz, the target near 190 Hz: the output's pitch is the target's.
    source_f0 = speech_stats(held_out.samples, held_out.sample_rate).median_f0_hz
    target_f0 = speech_stats(female.samples, female.sample_rate).median_f0_hz
    output_f0 = speech_stats(converted.samples, converted.sample_rate).median_f0_hz
    assert output_f0 > 1.6 * source_f0, (source_f0, output_f0)
    assert abs(math.log(output_f0 / target_f0)) < math.log(1.2), (target_f0, output_f0)


def test_search_stays_within_budget_and_reports_progress(
    fitted: tuple[FitResult, list[float]],
) -> None:
    fit, reported = fitted
    assert 8 <= len(fit.candidates) <= 16
    assert fit.similarity == max(score for _, score in fit.candidates)
    # One report per candidate scored, then 1.0 when the search ends.
    assert len(reported) == len(fit.candidates) + 1
    assert reported == sorted(reported) and reported[0] > 0 and reported[-1] == 1.0
    assert {"warp", "f0_ratio"} <= set(fit.candidates[0][0])


def test_converted_speech_is_clean(converted: Audio, held_out: Audio) -> None:
    assert converted.sample_rate == held_out.sample_rate
    assert len(converted.samples) == len(held_out.samples)
    assert converted.samples.dtype == np.float32
    assert np.all(np.isfinite(converted.samples))
    assert float(np.max(np.abs(converted.samples))) <= LIMIT_CEILING
    before = speech_stats(held_out.samples, held_out.sample_rate)
    after = speech_stats(converted.samples, converted.sample_rate)
    assert after.clipped_fraction == 0.0, after
    assert abs(after.rms_dbfs - before.rms_dbfs) < 1.5, (before, after)
    # Buzz would raise the voiced share, whispery noise would lower it (measured +0.03..+0.08).
    assert abs(after.voiced_fraction - before.voiced_fraction) < 0.12, (before, after)
    assert abs(after.active_fraction - before.active_fraction) < 0.1, (before, after)


def test_pitch_is_applied_in_the_same_pass(
    fitted: tuple[FitResult, list[float]],
    held_out: Audio,
    converted: Audio,
) -> None:
    raised = convert(held_out, fitted[0].params, pitch=1.2)
    assert len(raised.samples) == len(held_out.samples)
    ratio = (
        speech_stats(raised.samples, raised.sample_rate).median_f0_hz
        / speech_stats(converted.samples, converted.sample_rate).median_f0_hz
    )
    assert ratio == pytest.approx(1.2, rel=0.05)
    with pytest.raises(ValueError, match="pitch"):
        convert(held_out, fitted[0].params, pitch=2.5)


def test_params_and_profile_round_trip_through_json(
    fitted: tuple[FitResult, list[float]],
    female: Audio,
    held_out: Audio,
    converted: Audio,
) -> None:
    params = fitted[0].params
    text = json.dumps(params.to_dict())
    assert len(text) < 10_000
    restored = ConversionParams.from_dict(json.loads(text))
    assert restored.to_dict() == params.to_dict()
    # Stored parameters are rounded: the pulse train's phase may drift, the sound must not change.
    # Compared per band, as a listener hears it: rounding log-F0 by ~1e-5 moves some of WORLD's
    # pulses by a sample, and with them its noise, so single 21 Hz bins of the long-term
    # spectrum moved by up to 1.8 dB (0.5 allowed then) while bands move by 0.1 dB at most.
    again = convert(held_out, restored)
    assert _bands_db(again) == pytest.approx(_bands_db(converted), abs=BAND_TOLERANCE_DB)
    assert speech_stats(again.samples, again.sample_rate).median_f0_hz == pytest.approx(
        speech_stats(converted.samples, converted.sample_rate).median_f0_hz, rel=0.01
    )

    profile = analyze_voice([female])
    assert VoiceProfile.from_dict(json.loads(json.dumps(profile.to_dict()))) == profile
    assert math.exp(profile.f0_log_mean) == pytest.approx(190, rel=0.1)


def test_bad_input_is_refused(female: Audio) -> None:
    with pytest.raises(ValueError, match="Hz"):
        analyze_voice([Audio(female.samples[::2].copy(), female.sample_rate // 2)])
    with pytest.raises(ValueError, match="recording"):
        analyze_voice([])
    with pytest.raises(ValueError, match="bands"):
        ConversionParams.from_dict(
            {
                "warp": 1.0,
                "f0_source": [4.5, 0.1],
                "f0_target": [5, 0.1],
                "centre": [0.0],
                "voiced_map": [1.0],
                "voiced_shift": [0.0],
                "unvoiced_shift": [0.0],
            }
        )


def _bands_db(audio: Audio) -> np.ndarray:
    """Long-term average spectrum in 24 mel bands from 100 Hz to 8 kHz (4-46 bins each), in dB."""
    freqs, power = welch(audio.samples, audio.sample_rate, nperseg=1024)
    mel = 2595 * np.log10(1 + np.array([100.0, 8000.0]) / 700)
    edges = 700 * (10 ** (np.linspace(mel[0], mel[1], 25) / 2595) - 1)
    bands = [
        power[(freqs >= low) & (freqs < high)].mean() for low, high in itertools.pairwise(edges)
    ]
    return np.asarray(10 * np.log10(np.asarray(bands) + 1e-20))
