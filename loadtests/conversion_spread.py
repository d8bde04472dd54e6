"""Spread of test_conversion's quality figures over many Piper seeds (not a load test).

For each seed: Piper's sampling noise seeded, the clone conversion fitted toward the female
fixture speaker from fresh calibration speech, then every figure the test bounds
(tests/unit/test_conversion.py: quality_figures, BOUNDS) measured on a fresh rendering of the
held-out text. Prints each seed's figures, then each figure's range and whether it kept its
bound in every seed.
Run from the repository root: PYTHONPATH=. python loadtests/conversion_spread.py --seeds 20
"""

from __future__ import annotations

import argparse
import time

import onnxruntime as ort
import soundfile as sf

from tests.unit.test_conversion import (
    BOUNDS,
    HELD_OUT_TEXT,
    SPEECH,
    quality_figures,
    within,
)
from voxify.embeddings.encoder import SpeakerEncoder, cosine
from voxify.engines.conversion import fit_conversion
from voxify.engines.piper import PiperEngine
from voxify.speech import Audio
from voxify.voices.library import CALIBRATION_TEXTS


def main() -> None:
    """Fit and measure once per seed, then print the ranges."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    args = parser.parse_args()

    encoder = SpeakerEncoder(threads=1)
    samples, rate = sf.read(SPEECH / "arctic_slt_female_a0009.wav", dtype="float32")
    female = Audio(samples, int(rate))
    reference = encoder.embed(female)
    runs: list[dict[str, float]] = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        started = time.perf_counter()
        ort.set_seed(seed)  # read when the session is built
        piper = PiperEngine()
        fit = fit_conversion(
            [piper.synthesize(text) for text in CALIBRATION_TEXTS],
            [female],
            lambda audio: cosine(encoder.embed(audio), reference),
        )
        figures = quality_figures(fit, piper.synthesize(HELD_OUT_TEXT), female, encoder.embed)
        runs.append(figures)
        shown = ", ".join(f"{name} {value:.3f}" for name, value in figures.items())
        print(f"seed {seed} ({time.perf_counter() - started:.0f} s): {shown}", flush=True)
    print(f"over {len(runs)} seeds:")
    for name, bound in BOUNDS.items():
        values = [run[name] for run in runs]
        kept = all(within(value, bound) for value in values)
        print(
            f"  {name:20s} {min(values):.3f} - {max(values):.3f}   bound {bound[0]} "
            f"{bound[1]:.3f}   {'kept' if kept else 'BROKEN'}"
        )


if __name__ == "__main__":
    main()
