"""PiperEngine on the packaged joe voice: real speech, real batching, measured like a listener."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from tests.unit.conftest import seeded_piper
from voxify.audio.analysis import speech_stats
from voxify.engines.base import Engine
from voxify.engines.piper import SENTENCE_PAUSE_S, PiperEngine
from voxify.speech import Audio

TEN_WORDS = "The quick brown fox jumps over the lazy dog near the river."
THREE_SENTENCES = "Good morning everyone. The meeting starts at nine. Please be on time."
BATCH_TEXTS = [
    "Please remember to bring your umbrella because it might rain later.",
    "Fresh bread smells wonderful.",
    "Our quarterly revenue increased by twelve percent compared to last year, again.",
]


@pytest.fixture(scope="module")
def engine() -> PiperEngine:
    # Two threads match the CI machine, and exercise the session-options path for free.
    return seeded_piper(intra_op_threads=2)


@pytest.fixture(scope="module")
def ten_words(engine: PiperEngine) -> Audio:
    return engine.synthesize(TEN_WORDS)


@pytest.fixture
def deterministic(engine: PiperEngine, monkeypatch: pytest.MonkeyPatch) -> PiperEngine:
    """The same engine with VITS's sampling noise off, so two paths can be compared exactly."""
    quiet = dataclasses.replace(engine._config, noise_scale=0.0, noise_w_scale=0.0)
    monkeypatch.setattr(engine, "_config", quiet)
    return engine


@pytest.fixture
def steady_durations(engine: PiperEngine, monkeypatch: pytest.MonkeyPatch) -> PiperEngine:
    """Phoneme durations without sampling noise (+-7% between runs otherwise); audio as usual."""
    steady = dataclasses.replace(engine._config, noise_w_scale=0.0)
    monkeypatch.setattr(engine, "_config", steady)
    return engine


def _trailing_quiet_s(audio: Audio) -> float:
    """Seconds after the last 10 ms frame louder than -45 dBFS."""
    frame = audio.sample_rate // 100
    count = len(audio.samples) // frame
    rms = np.sqrt(np.mean(audio.samples[: count * frame].reshape(count, frame) ** 2, axis=1))
    loud = np.flatnonzero(rms > 10 ** (-45 / 20))
    return audio.duration - (int(loud[-1]) + 1) * frame / audio.sample_rate


def _zero_runs(samples: np.ndarray, min_len: int) -> int:
    """Number of runs of exact zeros at least ``min_len`` samples long."""
    padded = np.concatenate([[1.0], samples, [1.0]]) != 0
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return int(np.sum(edges[1::2] - edges[::2] >= min_len))


def test_engine_meets_protocol(engine: PiperEngine) -> None:
    as_engine: Engine = engine
    assert as_engine.name == "piper"
    assert as_engine.languages == ("en-US",)
    assert as_engine.sample_rate == 22050
    assert engine.exact_batch_lengths  # this model's durations can be exposed


def test_ten_word_sentence_sounds_like_speech(ten_words: Audio) -> None:
    stats = speech_stats(ten_words.samples, ten_words.sample_rate)
    assert ten_words.samples.dtype == np.float32 and ten_words.samples.ndim == 1
    assert 1.5 <= stats.duration_s <= 6.0
    assert stats.voiced_fraction > 0.3
    assert stats.rms_dbfs > -35.0
    assert stats.clipped_fraction == 0.0 and stats.peak < 0.99
    assert stats.active_fraction > 0.5
    assert 60.0 < stats.median_f0_hz < 200.0  # a low male voice


def test_speed_scales_duration(engine: PiperEngine) -> None:
    fast = engine.synthesize(TEN_WORDS, speed=1.5)
    slow = engine.synthesize(TEN_WORDS, speed=0.75)
    # 0.5 in theory; each phoneme's frame count is rounded up, so ~0.59 in practice.
    assert 0.4 < fast.duration / slow.duration < 0.7


@pytest.mark.parametrize("speed", [0.0, -1.0, 0.2, 4.5, math.nan, math.inf])
def test_out_of_range_speed_is_rejected(engine: PiperEngine, speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        engine.synthesize("Hello.", speed=speed)


@pytest.mark.parametrize("text", ["", "   \n\t", "...", "?", "- -", '"" ( )'])
def test_unspeakable_text_is_rejected(engine: PiperEngine, text: str) -> None:
    with pytest.raises(ValueError, match="no speakable text"):
        engine.synthesize(text)
    with pytest.raises(ValueError, match="no speakable text"):
        engine.iter_sentences(text)  # raises on the call, before any audio is streamed
    with pytest.raises(ValueError, match="no speakable text"):
        engine.synthesize_batch(["Hello there.", text], speeds=[1.0, 1.0])


def test_iter_sentences_yields_one_clip_per_sentence(engine: PiperEngine) -> None:
    clips = list(engine.iter_sentences(THREE_SENTENCES))
    assert len(clips) == 3
    for clip in clips:
        stats = speech_stats(clip.samples, clip.sample_rate)
        assert 0.5 < clip.duration < 4.0
        assert stats.voiced_fraction > 0.2 and stats.rms_dbfs > -35.0


def test_synthesize_joins_sentences_with_a_pause(engine: PiperEngine) -> None:
    audio = engine.synthesize(THREE_SENTENCES)
    pause = round(SENTENCE_PAUSE_S * audio.sample_rate)
    assert _zero_runs(audio.samples, pause) == 2  # model output is never exactly 0 that long
    assert 3.0 < audio.duration < 10.0


def test_batch_matches_one_by_one(steady_durations: PiperEngine) -> None:
    engine = steady_durations
    batch = engine.synthesize_batch(BATCH_TEXTS, speeds=[1.0] * 3)
    single = [engine.synthesize(text) for text in BATCH_TEXTS]
    assert len(batch) == 3
    for one, many in zip(single, batch, strict=True):
        assert many.sample_rate == one.sample_rate
        assert abs(many.duration - one.duration) / one.duration < 0.10
        # Same scale on both paths: no per-sentence peak normalisation anywhere.
        one_stats = speech_stats(one.samples, one.sample_rate)
        many_stats = speech_stats(many.samples, many.sample_rate)
        assert abs(many_stats.rms_dbfs - one_stats.rms_dbfs) < 2.0
        # The short text shares a [batch, samples] tensor with the long ones; its padding
        # (over a second here) must be cut off, leaving only the sentence's own decay.
        assert _trailing_quiet_s(many) < _trailing_quiet_s(one) + 0.15
    assert batch[1].duration < 0.6 * batch[2].duration


def test_batch_is_numerically_the_same_inference(deterministic: PiperEngine) -> None:
    texts = BATCH_TEXTS[:2]
    batch = deterministic.synthesize_batch(texts, speeds=[1.0, 1.0])
    for text, many in zip(texts, batch, strict=True):
        one = deterministic.synthesize(text)
        assert len(many.samples) == len(one.samples)
        np.testing.assert_allclose(many.samples, one.samples, atol=2e-3)


def test_batch_of_very_different_lengths_is_all_speech(engine: PiperEngine) -> None:
    short = "Hi there."
    long = (
        "Scientists working deep in the rainforest discovered a tiny new species of frog, "
        "and they spent the rest of the long wet season recording its unusual calls at night."
    )
    clips = engine.synthesize_batch([short, long], speeds=[1.0, 1.0])
    assert clips[0].duration < 1.5 < 5.0 < clips[1].duration
    for clip in clips:
        stats = speech_stats(clip.samples, clip.sample_rate)
        # Two words are mostly onset and decay, hence the modest voicing bar.
        assert stats.voiced_fraction > 0.12 and stats.active_fraction > 0.4
        assert stats.rms_dbfs > -35.0 and stats.clipped_fraction == 0.0
        assert 50.0 < stats.median_f0_hz < 200.0


def test_batch_with_mixed_speeds(engine: PiperEngine) -> None:
    fast, slow = engine.synthesize_batch([TEN_WORDS, TEN_WORDS], speeds=[1.5, 0.75])
    assert 0.4 < fast.duration / slow.duration < 0.7


def test_batch_edge_cases(engine: PiperEngine) -> None:
    assert engine.synthesize_batch([], speeds=[]) == []
    with pytest.raises(ValueError, match="speeds"):
        engine.synthesize_batch(["Hello."], speeds=[1.0, 1.0])


def test_silence_trimming_fallback_is_close(
    deterministic: PiperEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["Fresh bread smells wonderful.", BATCH_TEXTS[2]]
    exact = deterministic.synthesize_batch(texts, speeds=[1.0, 1.0])
    monkeypatch.setattr(deterministic, "_durations_output", None)
    trimmed = deterministic.synthesize_batch(texts, speeds=[1.0, 1.0])
    for want, got in zip(exact, trimmed, strict=True):
        assert abs(got.duration - want.duration) < 0.25


def test_intra_op_threads_reach_the_session(engine: PiperEngine) -> None:
    assert engine._session.get_session_options().intra_op_num_threads == 2
