"""Post-synthesis effects: pitch shift (WORLD vocoder), gain with a soft limiter, resampling."""

from __future__ import annotations

import math

import numpy as np
import pyworld
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

from voxify.audio.analysis import F0_MIN_HZ, bridge_f0_gaps, estimate_f0
from voxify.speech import Audio

MIN_PITCH, MAX_PITCH = 0.5, 2.0
MIN_VOLUME, MAX_VOLUME = 0.0, 2.0
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8000, 48000
FRAME_PERIOD_MS = 5.0
BRIDGE_GAP_MS = 60.0  # unvoiced gaps this short inside voiced speech are tracker dropouts
LIMIT_CEILING = 0.98
_LIMIT_WINDOW_S = 0.010


def apply_effects(
    audio: Audio, *, pitch: float = 1.0, volume: float = 1.0, sample_rate: int | None = None
) -> Audio:
    """Shift pitch by a frequency ratio, scale volume, resample; output stays in [-1, 1]."""
    _check_range("pitch", pitch, MIN_PITCH, MAX_PITCH)
    _check_range("volume", volume, MIN_VOLUME, MAX_VOLUME)
    if sample_rate is not None and not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise ValueError(
            f"sample_rate must be between {MIN_SAMPLE_RATE} and {MAX_SAMPLE_RATE} Hz, "
            f"got {sample_rate}"
        )
    target_rate = audio.sample_rate if sample_rate is None else sample_rate

    samples = np.asarray(audio.samples, dtype=np.float32)
    if pitch != 1.0 and samples.size:
        samples = shift_pitch(samples, audio.sample_rate, pitch)
    if target_rate != audio.sample_rate and samples.size:
        samples = resample(samples, audio.sample_rate, target_rate)
    if volume != 1.0:
        samples = samples * np.float32(volume)
    # Last, so that overshoot from resynthesis or resampling is caught as well as gain.
    return Audio(soft_limit(samples, target_rate), target_rate)


def shift_pitch(samples: np.ndarray, sample_rate: int, ratio: float) -> np.ndarray:
    """Scale F0 by ``ratio`` keeping the spectral envelope (formants) and duration."""
    x = np.ascontiguousarray(samples, dtype=np.float64)
    # Not pyworld.dio: it puts this voice's F0 near twice the true value (see estimate_f0),
    # and the resynthesis would then sound an octave up even at ratio 1.0.
    f0, times = estimate_f0(x, sample_rate, frame_period_ms=FRAME_PERIOD_MS)
    f0 = bridge_f0_gaps(f0, max_gap_frames=round(BRIDGE_GAP_MS / FRAME_PERIOD_MS))
    # WORLD's default 71 Hz floor is above part of this voice's range (~65-110 Hz); frames
    # under the floor get an envelope smeared by harmonics and come back rough.
    fft_size = pyworld.get_cheaptrick_fft_size(sample_rate, F0_MIN_HZ)
    envelope = pyworld.cheaptrick(x, f0, times, sample_rate, f0_floor=F0_MIN_HZ, fft_size=fft_size)
    aperiodicity = pyworld.d4c(x, f0, times, sample_rate, fft_size=fft_size)
    y = pyworld.synthesize(f0 * ratio, envelope, aperiodicity, sample_rate, FRAME_PERIOD_MS)
    # WORLD rounds to whole frames; pad or cut so the clip keeps its exact length.
    out = np.zeros(len(x), dtype=np.float32)
    n = min(len(x), len(y))
    out[:n] = y[:n]
    return out


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling by the reduced ratio to_rate/from_rate."""
    divisor = math.gcd(from_rate, to_rate)
    up, down = to_rate // divisor, from_rate // divisor
    out = resample_poly(samples.astype(np.float64), up, down)
    return np.asarray(out, dtype=np.float32)


def soft_limit(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Smooth look-ahead gain reduction so no sample exceeds 0.98; quieter clips untouched."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size == 0 or float(np.max(np.abs(samples))) <= LIMIT_CEILING:
        return samples
    # Gain, not waveshaping (tanh/clip), so overdriven peaks get no added harmonics. The
    # gain each sample needs is spread over +-10 ms by a minimum filter, then averaged over
    # the same span: every average then includes the sample's own requirement, so the
    # ceiling holds, and the gain ramps over ~20 ms instead of jumping.
    needed = np.minimum(1.0, LIMIT_CEILING / np.maximum(np.abs(samples), 1e-9))
    span = 2 * round(_LIMIT_WINDOW_S * sample_rate) + 1
    gain = uniform_filter1d(minimum_filter1d(needed, span, mode="nearest"), span, mode="nearest")
    limited = samples * gain
    # Guard the last float rounding of the moving average.
    return np.clip(limited, -LIMIT_CEILING, LIMIT_CEILING).astype(np.float32)


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
