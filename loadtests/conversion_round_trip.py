"""Spread of test_conversion's JSON round-trip figure over many Piper draws (not a load test).

Fits the clone conversion once (Piper seeded with --fit-seed), then converts --draws fresh
Piper renderings of the held-out text with the fitted and with the JSON-rounded parameters, and
prints the largest per-bin and per-band spectrum change of each draw, then their ranges.
Run from the repository root: PYTHONPATH=. python loadtests/conversion_round_trip.py
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import onnxruntime as ort
import soundfile as sf
from scipy.signal import welch

from tests.unit.test_conversion import HELD_OUT_TEXT, SPEECH, _bands_db
from voxify.embeddings.encoder import SpeakerEncoder, cosine
from voxify.engines.base import Audio
from voxify.engines.conversion import ConversionParams, convert, fit_conversion
from voxify.engines.piper import PiperEngine
from voxify.voices.library import CALIBRATION_TEXTS


def _bins_db(audio: Audio) -> np.ndarray:
    freqs, power = welch(audio.samples, audio.sample_rate, nperseg=1024)
    return np.asarray(10 * np.log10(power[(freqs >= 100) & (freqs <= 8000)] + 1e-20))


def main() -> None:
    """Fit once, then measure the round trip on each draw."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=24)
    parser.add_argument("--fit-seed", type=int, default=0)
    args = parser.parse_args()

    encoder = SpeakerEncoder(threads=1)
    samples, rate = sf.read(SPEECH / "arctic_slt_female_a0009.wav", dtype="float32")
    female = Audio(samples, int(rate))
    reference = encoder.embed(female)
    ort.set_seed(args.fit_seed)  # read when the session is built
    piper = PiperEngine()
    fit = fit_conversion(
        [piper.synthesize(text) for text in CALIBRATION_TEXTS],
        [female],
        lambda audio: cosine(encoder.embed(audio), reference),
    )
    restored = ConversionParams.from_dict(json.loads(json.dumps(fit.params.to_dict())))
    bins, bands = [], []
    for draw in range(args.draws):
        held_out = piper.synthesize(HELD_OUT_TEXT)
        converted, again = convert(held_out, fit.params), convert(held_out, restored)
        bins.append(float(np.max(np.abs(_bins_db(again) - _bins_db(converted)))))
        bands.append(float(np.max(np.abs(_bands_db(again) - _bands_db(converted)))))
        print(
            f"draw {draw}: largest bin change {bins[-1]:.3f} dB, band {bands[-1]:.3f} dB",
            flush=True,
        )
    print(
        f"over {args.draws} draws: bins {min(bins):.3f}-{max(bins):.3f} dB, "
        f"bands {min(bands):.3f}-{max(bands):.3f} dB"
    )


if __name__ == "__main__":
    main()
