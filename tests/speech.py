"""Listen-equivalent assertions shared by the test tiers."""

from __future__ import annotations

from voxify.audio.analysis import SpeechStats, decode, speech_stats

# Piper's joe voice speaks roughly 2-3.5 words per second at speed 1.0.
MIN_WORDS_PER_S = 1.5
MAX_WORDS_PER_S = 4.5


def assert_real_speech(
    data: bytes, *, words: int, sample_rate: int | tuple[int, ...] = 22050
) -> SpeechStats:
    """The bytes decode to speech of plausible length that is neither silent nor clipped."""
    audio = decode(data)
    stats = speech_stats(audio.samples, audio.sample_rate)
    rates = sample_rate if isinstance(sample_rate, tuple) else (sample_rate,)
    assert audio.sample_rate in rates, audio.sample_rate
    assert words / MAX_WORDS_PER_S <= stats.duration_s <= words / MIN_WORDS_PER_S + 1.0, stats
    assert stats.rms_dbfs > -35, stats  # not silent
    assert stats.active_fraction > 0.4, stats  # sound most of the time
    assert stats.voiced_fraction > 0.2, stats  # voiced energy: speech, not noise
    assert 60 < stats.median_f0_hz < 300, stats  # a human voice's pitch
    assert stats.clipped_fraction < 0.001, stats
    return stats
