"""WORLD features of speech and the voice statistics a clone's conversion is fitted from."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pyworld

from voxify.audio.analysis import F0_MIN_HZ, bridge_f0_gaps, estimate_f0
from voxify.audio.effects import BRIDGE_GAP_MS, FRAME_PERIOD_MS
from voxify.speech import Audio

# 32 mel bands score within 0.005 of 40 or 56 and keep the stored band map small.
BANDS = 32
# Every recording rate we accept (>= 16 kHz) covers 0-8 kHz, and so does the speaker encoder.
BAND_MAX_HZ = 8000.0
MIN_RATE = 16000
# Statistics use frames within this many dB of the loud end of the clip: speech, not pauses.
_ACTIVE_DB = 25.0
_NATS_PER_DB = math.log(10) / 10  # log-power units per dB
# YIN leaves this creaky voice's voicing in fragments; WORLD renders a 5-20 ms voiced island
# as one or two pulses, i.e. noise (a plain resynthesis measured 0.27 voiced vs 0.40 before).
# Voicing gaps up to 60 ms are bridged before the envelope and aperiodicity are taken
# (0.38 voiced); d4c still finds the bridged frames' noise, so fricatives keep their hiss.
_BRIDGE_FRAMES = round(BRIDGE_GAP_MS / FRAME_PERIOD_MS)
# A few seconds of speech leave some band directions almost without variance; mapping onto
# them would flatten phonetic contrast. No direction is scaled by more than this factor.
_MAX_MAP_GAIN = 3.0


@dataclass(frozen=True)
class WorldFeatures:
    """One clip's WORLD analysis on a 5 ms grid; the envelope is kept as log power."""

    f0: np.ndarray
    log_envelope: np.ndarray
    aperiodicity: np.ndarray
    sample_rate: int
    length: int
    rms: float


@dataclass(frozen=True)
class VoiceProfile:
    """A voice's WORLD statistics: log-F0 moments and log mel-band envelope moments."""

    f0_log_mean: float
    f0_log_std: float
    voiced_mean: tuple[float, ...]  # per band, voiced speech frames
    voiced_cov: tuple[float, ...]  # band covariance of voiced frames, upper triangle by rows
    unvoiced_mean: tuple[float, ...]  # per band, unvoiced speech frames (fricatives)
    frames: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return {
            "f0_log_mean": self.f0_log_mean,
            "f0_log_std": self.f0_log_std,
            "voiced_mean": list(self.voiced_mean),
            "voiced_cov": list(self.voiced_cov),
            "unvoiced_mean": list(self.unvoiced_mean),
            "frames": self.frames,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VoiceProfile:
        """Inverse of to_dict."""
        return cls(
            float(data["f0_log_mean"]),
            float(data["f0_log_std"]),
            _floats(data["voiced_mean"]),
            _floats(data["voiced_cov"]),
            _floats(data["unvoiced_mean"]),
            int(data["frames"]),
        )

    def covariance(self) -> np.ndarray:
        """The full band covariance matrix."""
        return unpack_symmetric(self.voiced_cov, BANDS)


def analyze(audio: Audio) -> WorldFeatures:
    """F0 (the project's YIN tracker), cheaptrick envelope and d4c aperiodicity."""
    x = np.ascontiguousarray(audio.samples, dtype=np.float64).reshape(-1)
    rate = audio.sample_rate
    # Not pyworld.dio: it reads the Piper voice an octave high (see estimate_f0).
    f0, times = estimate_f0(x, rate, frame_period_ms=FRAME_PERIOD_MS)
    f0 = bridge_f0_gaps(f0, max_gap_frames=_BRIDGE_FRAMES)
    # A 50 Hz floor, as in effects.shift_pitch: the Piper voice dips under WORLD's 71 Hz default.
    fft_size = pyworld.get_cheaptrick_fft_size(rate, F0_MIN_HZ)
    envelope = pyworld.cheaptrick(x, f0, times, rate, f0_floor=F0_MIN_HZ, fft_size=fft_size)
    aperiodicity = pyworld.d4c(x, f0, times, rate, fft_size=fft_size)
    rms = float(np.sqrt(np.mean(x**2))) if x.size else 0.0
    return WorldFeatures(f0, np.log(envelope + 1e-12), aperiodicity, rate, len(x), rms)


def analyze_voice(audios: Sequence[Audio]) -> VoiceProfile:
    """Pool the WORLD statistics of one speaker's recordings."""
    if not audios:
        raise ValueError("analyze_voice needs at least one recording")
    for audio in audios:
        if audio.sample_rate < MIN_RATE:
            raise ValueError(f"recordings must be at least {MIN_RATE} Hz, got {audio.sample_rate}")
    return profile([analyze(audio) for audio in audios])


def profile(clips: Sequence[WorldFeatures], warp: float = 1.0) -> VoiceProfile:
    """Statistics of analysed clips, their envelopes first warped by ``warp``."""
    voiced_bands, unvoiced_bands, f0s = [], [], []
    for clip in clips:
        bands = band_levels(
            warp_envelope(clip.log_envelope, clip.sample_rate, warp), clip.sample_rate
        )
        speech = _active(bands)
        voiced = clip.f0 > 0
        voiced_bands.append(bands[speech & voiced])
        unvoiced_bands.append(bands[speech & ~voiced])
        f0s.append(clip.f0[voiced])
    voiced_all, unvoiced_all = np.concatenate(voiced_bands), np.concatenate(unvoiced_bands)
    log_f0 = np.log(np.concatenate(f0s))
    if len(voiced_all) < 2 * BANDS or log_f0.size < 2:
        raise ValueError("too little voiced speech to profile the voice")
    # A clip with no fricatives (rare) borrows the voiced mean rather than failing.
    unvoiced_mean = unvoiced_all.mean(0) if len(unvoiced_all) >= BANDS else voiced_all.mean(0)
    return VoiceProfile(
        float(log_f0.mean()),
        float(log_f0.std()),
        _floats(voiced_all.mean(0)),
        _floats(pack_symmetric(np.cov(voiced_all.T))),
        _floats(unvoiced_mean),
        len(voiced_all),
    )


def transport_map(source: VoiceProfile, target: VoiceProfile) -> np.ndarray:
    """Gaussian optimal-transport matrix from the source's voiced bands to the target's.

    The symmetric map moves each frame as little as possible while giving the output the
    target's band covariance: band variances and how bands move together. (Matching the
    variances alone, or shrinking the covariances toward them, scored lower on every voice.)
    """
    ridge = 1e-6 * np.eye(BANDS)
    cs, ct = source.covariance() + ridge, target.covariance() + ridge
    root = _powm(cs, 0.5)
    inverse_root = np.linalg.inv(root)
    transport = inverse_root @ _powm(root @ ct @ root, 0.5) @ inverse_root
    gains, vectors = np.linalg.eigh((transport + transport.T) / 2)
    gains = np.clip(gains, 1 / _MAX_MAP_GAIN, _MAX_MAP_GAIN)
    return np.asarray((vectors * gains) @ vectors.T)


def warp_envelope(log_envelope: np.ndarray, sample_rate: int, ratio: float) -> np.ndarray:
    """Scale formant frequencies by ``ratio`` (output(f) = input(f / ratio))."""
    if ratio == 1.0:
        return log_envelope
    left, right, weight = _warp_taps(log_envelope.shape[1], sample_rate, round(ratio, 6))
    return log_envelope[:, left] * (1 - weight) + log_envelope[:, right] * weight


def band_levels(log_envelope: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mean log envelope in each mel band up to 8 kHz, per frame."""
    return log_envelope @ band_matrix(log_envelope.shape[1], sample_rate).T


@lru_cache(maxsize=8)
def band_matrix(bins: int, sample_rate: int) -> np.ndarray:
    """Triangular mel weights (BANDS x bins), each row summing to 1."""
    freqs, edges = _freqs(bins, sample_rate), _mel_edges()
    low, centre, high = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    weights = np.clip(
        np.minimum((freqs - low) / (centre - low), (high - freqs) / (high - centre)), 0, None
    )
    weights /= weights.sum(axis=1, keepdims=True)
    weights.setflags(write=False)  # cached and shared
    return weights


@lru_cache(maxsize=8)
def spread_matrix(bins: int, sample_rate: int) -> np.ndarray:
    """Linear interpolation from band centres to envelope bins (BANDS x bins); edges held."""
    freqs, centres = _freqs(bins, sample_rate), _mel_edges()[1:-1]
    spread = np.stack([np.interp(freqs, centres, row) for row in np.eye(BANDS)])
    spread.setflags(write=False)  # cached and shared
    return spread


def pack_symmetric(matrix: np.ndarray) -> np.ndarray:
    """Upper triangle by rows: a symmetric matrix in n(n+1)/2 numbers."""
    return np.asarray(matrix[np.triu_indices(matrix.shape[0])])


def unpack_symmetric(values: Sequence[float], size: int) -> np.ndarray:
    """Inverse of pack_symmetric."""
    matrix = np.zeros((size, size))
    matrix[np.triu_indices(size)] = values
    return matrix + np.triu(matrix, 1).T


def frame_level(bands: np.ndarray) -> np.ndarray:
    """Loudness proxy per frame: the mean log band power."""
    return np.asarray(bands.mean(axis=1))


def _active(bands: np.ndarray) -> np.ndarray:
    level = frame_level(bands)
    return np.asarray(level > np.percentile(level, 95) - _ACTIVE_DB * _NATS_PER_DB)


@lru_cache(maxsize=32)
def _warp_taps(
    bins: int, sample_rate: int, ratio: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    position = np.clip(np.arange(bins) / ratio, 0, bins - 1)
    left = np.floor(position).astype(np.int64)
    return left, np.minimum(left + 1, bins - 1), position - left


def _freqs(bins: int, sample_rate: int) -> np.ndarray:
    return np.arange(bins) * sample_rate / (2 * (bins - 1))


def _mel_edges() -> np.ndarray:
    top = 2595 * math.log10(1 + BAND_MAX_HZ / 700)
    return np.asarray(700 * (10 ** (np.linspace(0, top, BANDS + 2) / 2595) - 1))


def _powm(matrix: np.ndarray, power: float) -> np.ndarray:
    """A power of a symmetric positive semi-definite matrix."""
    values, vectors = np.linalg.eigh(matrix)
    return np.asarray((vectors * np.clip(values, 1e-9, None) ** power) @ vectors.T)


def _floats(values: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in values)
