"""Listen-equivalent measurements of speech, for tests and benchmarks, and decoding back."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import pyworld
import soundfile as sf

from voxify.speech import Audio

FRAME_S = 0.020
ACTIVE_DBFS = -45.0
CLIP_LEVEL = 0.999
# Reported for digital silence instead of -inf, so stats stay JSON-serialisable.
SILENCE_DBFS = -120.0
F0_MIN_HZ = 50.0
F0_MAX_HZ = 500.0
# 0.1-0.15 suits clean speech; this voice is rough (creaky), so a looser threshold.
YIN_THRESHOLD = 0.3
YIN_MIN_DBFS = -50.0
_OCTAVE_MIN_DIP = 0.1
_YIN_CHUNK = 256


@dataclass(frozen=True)
class SpeechStats:
    """What a listener would notice: length, loudness, clipping, voicing and pitch."""

    duration_s: float
    rms_dbfs: float
    peak: float
    clipped_fraction: float  # samples with |x| >= 0.999
    voiced_fraction: float  # 20 ms frames with a confident F0 (see estimate_f0)
    active_fraction: float  # 20 ms frames louder than -45 dBFS RMS
    median_f0_hz: float  # over voiced frames; 0.0 when none are voiced


def speech_stats(samples: np.ndarray, sample_rate: int) -> SpeechStats:
    """Measure a mono clip: loudness, clipping, voicing and median pitch."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if x.size == 0:
        return SpeechStats(0.0, SILENCE_DBFS, 0.0, 0.0, 0.0, 0.0, 0.0)
    f0 = _f0_track(x, sample_rate)
    voiced = f0[f0 > 0]
    return SpeechStats(
        duration_s=x.size / sample_rate,
        rms_dbfs=_dbfs(float(np.sqrt(np.mean(x**2)))),
        peak=float(np.max(np.abs(x))),
        clipped_fraction=float(np.mean(np.abs(x) >= CLIP_LEVEL)),
        voiced_fraction=voiced.size / f0.size if f0.size else 0.0,
        active_fraction=_active_fraction(x, sample_rate),
        median_f0_hz=float(np.median(voiced)) if voiced.size else 0.0,
    )


def decode(data: bytes) -> Audio:
    """Decode any libsndfile-readable file (wav, flac, ogg, mp3) to mono float32."""
    samples, sample_rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    mono = samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
    return Audio(np.ascontiguousarray(mono, dtype=np.float32), int(sample_rate))


def _f0_track(x: np.ndarray, sample_rate: int) -> np.ndarray:
    f0, _ = estimate_f0(x, sample_rate, frame_period_ms=FRAME_S * 1000, refine=False)
    return f0


def estimate_f0(
    samples: np.ndarray, sample_rate: int, *, frame_period_ms: float = 5.0, refine: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """F0 in Hz (0 = unvoiced) and frame times in s, on WORLD's time grid.

    WORLD's own dio tracks this voice an octave-ish too high: en_US-joe speaks at about
    88 Hz with a weak fundamental, and dio reports 1.75-2.1x that on most frames, which
    makes a WORLD "pitch 1.0" resynthesis jump up an octave. A YIN tracker (cumulative
    mean normalised difference, first dip below a threshold) follows the waveform's true
    period, so it picks the F0 and the voicing; stonemask then refines it as WORLD does.
    """
    x = np.ascontiguousarray(samples, dtype=np.float64).reshape(-1)
    count = int(len(x) / sample_rate * 1000 / frame_period_ms) + 1
    times = np.arange(count) * frame_period_ms / 1000
    f0 = np.zeros(count)
    if len(x) == 0:
        return f0, times
    cmndf, energy = _yin_cmndf(x, sample_rate, times)
    min_lag = math.ceil(sample_rate / F0_MAX_HZ)
    for i in np.flatnonzero(energy > 10 ** (YIN_MIN_DBFS / 10)):
        lag = _first_dip(cmndf[i], min_lag)
        if lag is not None:
            f0[i] = sample_rate / lag
    voiced = f0 > 0
    if voiced.any():
        # Whatever sits far from the speaker's median is a fricative or an octave slip.
        median = float(np.median(f0[voiced]))
        f0[(f0 > 1.9 * median) | (f0 < 0.55 * median)] = 0.0
    if refine and voiced.any():
        f0 = np.asarray(pyworld.stonemask(x, f0, times, sample_rate))
    return f0, times


def bridge_f0_gaps(f0: np.ndarray, *, max_gap_frames: int) -> np.ndarray:
    """Interpolate log-F0 across unvoiced gaps of at most ``max_gap_frames`` between voiced ones.

    YIN breaks creaky voicing into 5-20 ms islands; WORLD renders the gaps as noise, so a
    plain resynthesis of such a voice loses a third of its voiced frames.
    """
    voiced = np.flatnonzero(f0 > 0)
    f0 = f0.copy()
    steps = np.diff(voiced)
    for i in np.flatnonzero((steps > 1) & (steps <= max_gap_frames + 1)):
        left, right = voiced[i], voiced[i + 1]
        f0[left + 1 : right] = np.exp(
            np.interp(np.arange(left + 1, right), [left, right], np.log([f0[left], f0[right]]))
        )
    return f0


def _yin_cmndf(x: np.ndarray, sample_rate: int, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """YIN's cumulative mean normalised difference per frame (lags 1..max), and frame power."""
    max_lag = int(sample_rate / F0_MIN_HZ)
    window = max_lag
    length = window + max_lag
    padded = np.concatenate([np.zeros(length), x, np.zeros(2 * length)])
    starts = np.round(times * sample_rate).astype(np.int64) + length - length // 2
    frames_view = np.lib.stride_tricks.sliding_window_view(padded, length)
    n_fft = 1 << math.ceil(math.log2(length + window))
    lags = np.arange(1, max_lag + 1)
    cmndf = np.empty((len(times), max_lag))
    energy = np.empty(len(times))
    # Chunks keep the FFT buffers small however long the clip is.
    for first in range(0, len(times), _YIN_CHUNK):
        frames = frames_view[starts[first : first + _YIN_CHUNK]]
        spectrum = np.fft.rfft(frames, n_fft) * np.conj(np.fft.rfft(frames[:, :window], n_fft))
        corr = np.fft.irfft(spectrum, n_fft)[:, 1 : max_lag + 1]
        power = np.concatenate([np.zeros((len(frames), 1)), np.cumsum(frames**2, axis=1)], axis=1)
        diff = power[:, [window]] + power[:, lags + window] - power[:, lags] - 2 * corr
        running = np.maximum(np.cumsum(diff, axis=1), 1e-12)
        cmndf[first : first + len(frames)] = diff * lags / running
        energy[first : first + len(frames)] = power[:, window] / window
    return cmndf, energy


def _first_dip(cmndf: np.ndarray, min_lag: int) -> float | None:
    """Lag (in samples, sub-sample precise) of the first minimum below YIN's threshold."""
    below = np.flatnonzero(cmndf[min_lag - 1 :] < YIN_THRESHOLD)
    if below.size == 0:
        return None
    k = _descend(cmndf, int(below[0]) + min_lag - 1)
    # The first dip is YIN's guard against subharmonics, but with a loose threshold it can
    # be half the period on a weak-fundamental voice. Take the dip near twice the lag when
    # the first one is only weakly periodic and the longer period fits far better.
    low, high = round(1.85 * (k + 1)) - 1, round(2.15 * (k + 1))
    if cmndf[k] > _OCTAVE_MIN_DIP and high <= len(cmndf):
        double = low + int(np.argmin(cmndf[low:high]))
        if cmndf[double] < 0.5 * cmndf[k]:
            k = _descend(cmndf, double)
    offset = 0.0
    if 0 < k < len(cmndf) - 1:
        left, mid, right = cmndf[k - 1], cmndf[k], cmndf[k + 1]
        curvature = left - 2 * mid + right
        if curvature > 0:
            offset = 0.5 * (left - right) / curvature
    return k + 1 + offset  # index k holds lag k + 1


def _descend(cmndf: np.ndarray, k: int) -> int:
    """Walk right from index k to the bottom of its dip."""
    while k + 1 < len(cmndf) and cmndf[k + 1] < cmndf[k]:
        k += 1
    return k


def _active_fraction(x: np.ndarray, sample_rate: int) -> float:
    frame = max(1, round(FRAME_S * sample_rate))
    count = x.size // frame
    if count == 0:
        return float(_dbfs(float(np.sqrt(np.mean(x**2)))) > ACTIVE_DBFS)
    rms = np.sqrt(np.mean(x[: count * frame].reshape(count, frame) ** 2, axis=1))
    return float(np.mean(rms > 10 ** (ACTIVE_DBFS / 20)))


def _dbfs(rms: float) -> float:
    return max(20 * math.log10(rms), SILENCE_DBFS) if rms > 0 else SILENCE_DBFS
