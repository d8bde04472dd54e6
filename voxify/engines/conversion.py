"""A CPU clone: Piper speech converted toward a target speaker with the WORLD vocoder.

The conversion maps log-F0 statistics, warps the spectral envelope's frequency axis
(formants), and maps the envelope's mel-band statistics toward the target's: voiced frames by
a Gaussian optimal-transport map (band means and covariance), unvoiced frames by their mean.
Its few knobs (warp, F0 offset, mapping strength, unvoiced handling) are chosen per clone by
speaker similarity; the source is analysed once and only resynthesised per candidate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pyworld
from scipy.ndimage import uniform_filter1d

from voxify.audio.effects import FRAME_PERIOD_MS, MAX_PITCH, MIN_PITCH, soft_limit
from voxify.engines.conversion_fit import (
    BANDS,
    VoiceProfile,
    WorldFeatures,
    analyze,
    analyze_voice,
    band_levels,
    frame_level,
    pack_symmetric,
    profile,
    spread_matrix,
    transport_map,
    unpack_symmetric,
    warp_envelope,
)
from voxify.speech import Audio

__all__ = [
    "ConversionParams",
    "FitResult",
    "VoiceProfile",
    "analyze_voice",
    "convert",
    "fit_conversion",
]

# Quiet frames (pauses, breath) keep their shape: only the mean correction reaches them.
_MAP_FLOOR_DB, _MAP_RAMP_DB = 30.0, 10.0
# No band moves more than this, whatever a short or odd recording's statistics say.
_MAX_DELTA_DB = 30.0
# Voicing decisions flip within a frame; blending the two corrections over 25 ms avoids clicks.
_VOICING_BLEND_FRAMES = 5
_DB = math.log(10) / 10


@dataclass(frozen=True)
class ConversionParams:
    """Everything synthesis needs to convert Piper audio for one clone."""

    warp: float  # formant frequency ratio
    f0_source: tuple[float, float]  # log-F0 mean and std of the source voice
    f0_target: tuple[float, float]  # log-F0 mean and std to produce
    centre: tuple[float, ...]  # source's mean voiced band levels (after warping)
    voiced_map: tuple[float, ...]  # symmetric band map, upper triangle by rows
    voiced_shift: tuple[float, ...]  # added to voiced frames' band levels
    unvoiced_shift: tuple[float, ...]  # added to unvoiced frames' band levels

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict, rounded far below audibility (1e-5 of log power, ~5e-5 dB)."""
        return {key: _rounded(value) for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConversionParams:
        """Inverse of to_dict; ValueError for parameters of another shape."""

        def floats(key: str, size: int) -> tuple[float, ...]:
            values = tuple(float(v) for v in data[key])
            if len(values) != size:
                raise ValueError(
                    f"conversion parameter {key!r} must have {size} values "
                    f"({BANDS} bands), got {len(values)}"
                )
            return values

        source_mean, source_std = floats("f0_source", 2)
        target_mean, target_std = floats("f0_target", 2)
        return cls(
            warp=float(data["warp"]),
            f0_source=(source_mean, source_std),
            f0_target=(target_mean, target_std),
            centre=floats("centre", BANDS),
            voiced_map=floats("voiced_map", BANDS * (BANDS + 1) // 2),
            voiced_shift=floats("voiced_shift", BANDS),
            unvoiced_shift=floats("unvoiced_shift", BANDS),
        )


@dataclass(frozen=True)
class FitResult:
    """The chosen parameters, their score, the unconverted score, and every candidate tried."""

    params: ConversionParams
    similarity: float
    baseline_similarity: float
    candidates: list[tuple[dict[str, Any], float]]


def convert(audio: Audio, params: ConversionParams, *, pitch: float = 1.0) -> Audio:
    """Convert Piper speech with the clone's parameters; ``pitch`` is the user's extra F0 ratio."""
    if not (math.isfinite(pitch) and MIN_PITCH <= pitch <= MAX_PITCH):
        raise ValueError(f"pitch must be between {MIN_PITCH} and {MAX_PITCH}, got {pitch}")
    if audio.samples.size == 0:
        return audio
    return _render(analyze(audio), params, pitch)


def fit_conversion(
    source: Sequence[Audio],
    target: Sequence[Audio],
    score: Callable[[Audio], float],
    *,
    max_candidates: int = 16,
    progress: Callable[[float], None] | None = None,
) -> FitResult:
    """Choose conversion parameters for the target voice by coordinate search on ``score``."""
    if not source:
        raise ValueError("fit_conversion needs calibration speech")
    rate = source[0].sample_rate
    joined = Audio(np.concatenate([a.samples for a in source]).astype(np.float32), rate)
    # Analysed once: each candidate only re-maps features and re-synthesises.
    features = analyze(joined)
    voice = analyze_voice(target)
    baseline = score(joined)
    search = _Search(features, voice, score, max(1, max_candidates), progress)
    search.run()
    # The search only follows clear gains; the result is still the best candidate scored.
    best = max(search.scores, key=search.scores.__getitem__)
    if progress is not None:
        progress(1.0)
    return FitResult(
        search.params(best),
        search.scores[best],
        baseline,
        [(asdict(k), s) for k, s in search.scores.items()],
    )


@dataclass(frozen=True)
class _Knobs:
    warp: float = 1.0  # formant frequency ratio
    f0_ratio: float = 1.0  # on top of the target's mean F0
    strength: float = 1.0  # fraction of the envelope mapping applied
    separate_unvoiced: bool = False  # fricatives get the target's own unvoiced spectrum


# The speaker encoder barely hears F0, so the search is kept near the target's own pitch.
_BOUNDS = {"warp": (0.8, 1.5), "f0_ratio": (0.87, 1.15), "strength": (0.4, 1.2)}
# Scores wobble by about this much between near-identical candidates; smaller gains are noise.
_MIN_GAIN = 0.003


class _Search:
    """Greedy coordinate search; candidates are scored once each, within a fixed budget."""

    def __init__(
        self,
        features: WorldFeatures,
        voice: VoiceProfile,
        score: Callable[[Audio], float],
        budget: int,
        progress: Callable[[float], None] | None,
    ) -> None:
        self.features, self.voice, self.score = features, voice, score
        self.budget, self.progress = budget, progress
        self.scores: dict[_Knobs, float] = {}
        self._sources: dict[float, VoiceProfile] = {}

    def run(self) -> _Knobs:
        """Where the search ends; every knob tried is in ``scores``."""
        source_f0 = self._source(1.0).f0_log_mean
        # Formants scale with vocal-tract length, which F0 only loosely tracks: a cautious guess.
        warp = math.exp(0.3 * (self.voice.f0_log_mean - source_f0))
        best = _Knobs(warp=round(float(np.clip(warp, *_BOUNDS["warp"])), 4))
        self._try(best)
        # Biggest effects first; then finer steps with whatever budget is left.
        best = self._choose(best, "separate_unvoiced", (True,))
        best = self._line(best, "f0_ratio", 1.08)
        best = self._line(best, "warp", 1.08)
        best = self._line(best, "strength", 0.85)
        for name, step in (("warp", 1.04), ("f0_ratio", 1.04), ("strength", 0.92)):
            best = self._line(best, name, step)
        return best

    def params(self, knobs: _Knobs) -> ConversionParams:
        """Parameters for these knobs, from the source and target statistics."""
        source, target = self._source(knobs.warp), self.voice
        mix = knobs.strength
        # The target's recording level is arbitrary: align the band means' overall level.
        offset = np.mean(target.voiced_mean) - np.mean(source.voiced_mean)
        voiced_shift = mix * (np.subtract(target.voiced_mean, offset) - source.voiced_mean)
        unvoiced_shift = (
            mix * (np.subtract(target.unvoiced_mean, offset) - source.unvoiced_mean)
            if knobs.separate_unvoiced
            else voiced_shift
        )
        identity = np.eye(BANDS)
        band_map = identity + mix * (transport_map(source, target) - identity)
        return ConversionParams(
            warp=knobs.warp,
            f0_source=(source.f0_log_mean, source.f0_log_std),
            f0_target=(target.f0_log_mean + math.log(knobs.f0_ratio), target.f0_log_std),
            centre=source.voiced_mean,
            voiced_map=tuple(pack_symmetric(band_map).tolist()),
            voiced_shift=tuple(voiced_shift.tolist()),
            unvoiced_shift=tuple(unvoiced_shift.tolist()),
        )

    def _line(self, best: _Knobs, name: str, step: float) -> _Knobs:
        """Step one knob one way, then the other, while that improves the score."""
        for factor in (step, 1 / step):
            moved = False
            while self._budget_left():
                value = float(np.clip(getattr(best, name) * factor, *_BOUNDS[name]))
                candidate = self._changed(best, name, round(value, 4))
                if candidate in self.scores or not self._better(candidate, best):
                    break
                best, moved = candidate, True
            if moved:
                break
        return best

    def _choose(self, best: _Knobs, name: str, options: tuple[Any, ...]) -> _Knobs:
        """Try each alternative value of one knob against the best so far."""
        for option in options:
            candidate = self._changed(best, name, option)
            if self._better(candidate, best):
                best = candidate
        return best

    def _better(self, candidate: _Knobs, best: _Knobs) -> bool:
        return self._try(candidate) > self.scores[best] + _MIN_GAIN

    @staticmethod
    def _changed(knobs: _Knobs, name: str, value: Any) -> _Knobs:
        changes: dict[str, Any] = {name: value}
        return replace(knobs, **changes)

    def _try(self, knobs: _Knobs) -> float:
        if knobs not in self.scores:
            if not self._budget_left():
                return -math.inf
            self.scores[knobs] = float(self.score(_render(self.features, self.params(knobs))))
            if self.progress is not None:
                self.progress(min(1.0, len(self.scores) / self.budget))
        return self.scores[knobs]

    def _budget_left(self) -> bool:
        return len(self.scores) < self.budget

    def _source(self, warp: float) -> VoiceProfile:
        if warp not in self._sources:
            self._sources[warp] = profile([self.features], warp)
        return self._sources[warp]


def _render(features: WorldFeatures, params: ConversionParams, pitch: float = 1.0) -> Audio:
    """Map analysed features with the parameters and resynthesise at the source's rate."""
    rate = features.sample_rate
    f0 = features.f0.copy()
    voiced = f0 > 0
    (source_mean, source_std), (target_mean, target_std) = params.f0_source, params.f0_target
    f0[voiced] = np.exp(
        (np.log(f0[voiced]) - source_mean) * (target_std / source_std)
        + target_mean
        + math.log(pitch)
    )
    envelope = warp_envelope(features.log_envelope, rate, params.warp)
    bands = band_levels(envelope, rate)
    centre = np.asarray(params.centre)
    deviation = bands - centre
    # Frames far below the source's speech level are pauses: scaling them would lift noise.
    loudness = frame_level(bands) - centre.mean() + _MAP_FLOOR_DB * _DB
    weight = np.clip(loudness / (_MAP_RAMP_DB * _DB), 0.0, 1.0)[:, None]
    band_map = unpack_symmetric(params.voiced_map, BANDS) - np.eye(BANDS)
    voiced_delta = weight * (deviation @ band_map) + np.asarray(params.voiced_shift)
    blend = uniform_filter1d(voiced.astype(np.float64), _VOICING_BLEND_FRAMES)[:, None]
    delta = blend * voiced_delta + (1 - blend) * np.asarray(params.unvoiced_shift)
    delta = np.clip(delta, -_MAX_DELTA_DB * _DB, _MAX_DELTA_DB * _DB)
    envelope = envelope + delta @ spread_matrix(envelope.shape[1], rate)
    y = pyworld.synthesize(
        f0, np.ascontiguousarray(np.exp(envelope)), features.aperiodicity, rate, FRAME_PERIOD_MS
    )
    # WORLD rounds to whole frames; the clip keeps its exact length and its loudness.
    out = np.zeros(features.length)
    n = min(len(out), len(y))
    out[:n] = y[:n]
    out_rms = float(np.sqrt(np.mean(out**2)))
    if out_rms > 0:
        out *= features.rms / out_rms
    return Audio(soft_limit(out.astype(np.float32), rate), rate)


def _rounded(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [round(float(v), 5) for v in value]
    return round(float(value), 6)
