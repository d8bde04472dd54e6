"""Fit a Kokoro style to a speaker: a weighted mix of the stock voices nearest to it.

Starts from the stock voices nearest the samples' speaker embedding, then walks the weights
(a (1+1) evolution strategy, kept non-negative: a mix stays inside the span the packs were
trained in, where Kokoro still sounds natural). Each trial renders a short sentence and is
scored by more than one signal so the search cannot just fool the speaker encoder: the
embedding's cosine, minus penalties for a different pitch (median F0, semitones) and a
different long-term spectrum (band levels, dB).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from voxify.audio.analysis import estimate_f0
from voxify.speech import Audio
from voxify.voices.blends import Blend, normalized

if TYPE_CHECKING:
    from voxify.engines.kokoro import KokoroEngine

SEARCH_TEXT = "The juice of lemons makes fine punch. Rice is often served in round bowls."
NEAREST = 6  # stock voices the search mixes
F0_PENALTY = 0.01  # per semitone of median-F0 difference (capped)
SPECTRUM_PENALTY = 0.004  # per dB of RMS band-level difference (capped)
MAX_PENALTY = 0.15
_BANDS_HZ = (100, 300, 600, 1000, 1600, 2500, 4000, 5500, 7500)


@dataclass(frozen=True)
class VoiceTraits:
    """What the penalties compare: median F0 (Hz) and long-term band levels (dB)."""

    f0: float | None
    bands: np.ndarray

    @classmethod
    def of(cls, audios: Sequence[Audio]) -> VoiceTraits:
        f0s, levels, weights = [], [], []
        for audio in audios:
            f0, _ = estimate_f0(audio.samples, audio.sample_rate)
            f0s.append(f0[f0 > 0])
            levels.append(_band_levels(audio))
            weights.append(audio.duration)
        voiced = np.concatenate(f0s) if f0s else np.empty(0)
        return cls(
            f0=float(np.median(voiced)) if voiced.size >= 20 else None,
            bands=np.average(np.stack(levels), axis=0, weights=weights),  # nan stays nan
        )

    def penalty(self, other: VoiceTraits) -> float:
        """How far ``other`` is from this voice in pitch and spectrum, as a score penalty."""
        total = 0.0
        if self.f0 is not None and other.f0 is not None:
            total += F0_PENALTY * abs(12 * math.log2(other.f0 / self.f0))
        both = np.isfinite(self.bands) & np.isfinite(other.bands)  # a narrowband sample
        if both.sum() >= 3:
            mine, theirs = self.bands[both], other.bands[both]
            diff = (theirs - theirs.mean()) - (mine - mine.mean())
            total += SPECTRUM_PENALTY * float(np.sqrt(np.mean(diff**2)))
        return min(MAX_PENALTY, total)


class Scorer:
    """The search's score of a rendering against a reference embedding and traits."""

    def __init__(
        self, embed: Callable[[Audio], np.ndarray], reference: np.ndarray, traits: VoiceTraits
    ) -> None:
        self._embed = embed
        self.reference = reference
        self.traits = traits

    def similarity(self, audio: Audio) -> float:
        """The speaker encoder's cosine alone (what the API reports)."""
        return float(np.dot(self._embed(audio), self.reference))

    def __call__(self, audio: Audio) -> float:
        """Cosine minus the pitch and spectrum penalties."""
        return self.similarity(audio) - self.traits.penalty(VoiceTraits.of([audio]))


@dataclass
class StyleFit:
    """The best mix found, its score, the nearest stock voice's score, every trial."""

    blend: Blend
    score: float
    baseline: float
    trials: list[tuple[Blend, float]] = field(default_factory=list)


def stock_voiceprints(
    engine: KokoroEngine, embed: Callable[[Audio], np.ndarray]
) -> dict[str, np.ndarray]:
    """Each stock voice's speaker embedding, over the search sentence (what clones start from)."""
    return {
        name: embed(engine.synthesize(SEARCH_TEXT, voice=((name, 1.0),))) for name in engine.voices
    }


def nearest_stock(
    stock: Mapping[str, np.ndarray], reference: np.ndarray, n: int = NEAREST
) -> list[tuple[str, float]]:
    """The ``n`` stock voices whose embeddings are nearest the reference, nearest first."""
    ranked = sorted(
        ((name, float(np.dot(vector, reference))) for name, vector in stock.items()),
        key=lambda item: (-item[1], item[0]),
    )
    return ranked[:n]


def fit_style(
    nearest: Sequence[tuple[str, float]],
    render: Callable[[Blend], Audio],
    score: Callable[[Audio], float],
    *,
    budget_s: float,
    max_trials: int = 200,
    seed: int = 0,
    progress: Callable[[int, float], None] | None = None,
) -> StyleFit:
    """Search mixes of the ``nearest`` stock voices for the best ``score``.

    Trial 1 is the nearest voice alone, trial 2 a mix of the three nearest weighted by
    similarity; then Gaussian steps on the weights, widened after a gain and narrowed after
    a miss, until ``budget_s`` or ``max_trials``. ``progress(trial, best)`` is called after
    each trial (it may raise to stop the search).
    """
    names = [name for name, _ in nearest]
    rng = np.random.default_rng(seed)
    started = time.monotonic()
    trials: list[tuple[Blend, float]] = []

    def trial(weights: np.ndarray) -> float:
        blend = _blend(names, weights)
        value = score(render(blend))
        trials.append((blend, value))
        if progress is not None:
            progress(len(trials), max(v for _, v in trials))
        return value

    best = np.zeros(len(names))
    best[0] = 1.0
    best_score = baseline = trial(best)
    if len(names) >= 3 and max_trials >= 2:
        sims = np.array([s for _, s in nearest[:3]])
        mix = np.zeros(len(names))
        mix[:3] = np.exp((sims - sims.max()) * 20)
        mix /= mix.sum()
        value = trial(mix)
        if value > best_score:
            best, best_score = mix, value
    sigma = 0.25
    while len(trials) < max_trials and time.monotonic() - started < budget_s:
        candidate = np.clip(best + rng.normal(0.0, sigma, len(names)), 0.0, None)
        if candidate.sum() < 1e-6:
            continue
        candidate /= candidate.sum()
        value = trial(candidate)
        if value > best_score:
            best, best_score = candidate, value
            sigma = min(0.6, sigma * 1.5)
        else:
            sigma = max(0.03, sigma * 0.9)
    return StyleFit(_blend(names, best), best_score, baseline, trials)


def _blend(names: Sequence[str], weights: np.ndarray) -> Blend:
    kept = {name: float(w) for name, w in zip(names, weights, strict=True) if w > 1e-3}
    return normalized(kept)


def _band_levels(audio: Audio) -> np.ndarray:
    """Long-term level (dB) in a few bands, over the louder half of 32 ms frames."""
    x = np.asarray(audio.samples, dtype=np.float32)
    frame = int(0.032 * audio.sample_rate)
    if len(x) < frame:
        x = np.pad(x, (0, frame - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x, frame)[:: frame // 2]
    energy = (frames**2).mean(axis=1)
    loud = frames[energy >= np.median(energy)]
    spectrum = (np.abs(np.fft.rfft(loud * np.hanning(frame), axis=1)) ** 2).mean(axis=0)
    freqs = np.fft.rfftfreq(frame, 1.0 / audio.sample_rate)
    levels = [
        10 * np.log10(spectrum[(freqs >= lo) & (freqs < hi)].mean() + 1e-12)
        if hi <= audio.sample_rate / 2
        else np.nan  # above this recording's band
        for lo, hi in itertools.pairwise(_BANDS_HZ)
    ]
    return np.array(levels)
