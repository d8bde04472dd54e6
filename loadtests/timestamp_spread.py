"""Spread of test_timestamps' audio figures over many renders (not a load test).

Renders the test's two sentences with word timings 20 times each as plain speech, as a CPU
clone (neutral conversion) and fast and pitched at 16 kHz, and prints the range of the share
of energy inside the words' spans and of the sentence pause's level against speech.
Run from the repository root: PYTHONPATH=. python loadtests/timestamp_spread.py
"""

from __future__ import annotations

import math

import numpy as np

from tests.unit.conftest import neutral_conversion, seeded_piper
from tests.unit.test_timestamps import TEXT
from voxify.engines.render import finish
from voxify.speech import SynthesisRequest

RUNS = 20


def main() -> None:
    piper = seeded_piper()
    neutral = neutral_conversion().to_dict()
    cases = {
        "plain": SynthesisRequest(text=TEXT, timestamps=True),
        "clone": SynthesisRequest(text=TEXT, conversion=neutral, timestamps=True),
        "fast": SynthesisRequest(
            text=TEXT, speed=1.6, pitch=1.3, sample_rate=16000, timestamps=True
        ),
    }
    for label, request in cases.items():
        inside_shares, gap_levels, gaps = [], [], []
        for _ in range(RUNS):
            audio = finish(piper.synthesize(TEXT, speed=request.speed, timestamps=True), request)
            assert audio.words is not None
            samples, rate = audio.samples.astype(np.float64), audio.sample_rate
            energy = samples**2
            inside = np.zeros(len(samples), dtype=bool)
            for word in audio.words:
                inside[int(word.start * rate) : int(word.end * rate)] = True
            inside_shares.append(energy[inside].sum() / energy.sum())
            start, end = audio.words[7].end, audio.words[8].start  # "planks." | "Glue"
            middle = samples[int((start + 0.03) * rate) : int((end - 0.03) * rate)]
            gap_levels.append(math.sqrt(np.mean(middle**2) / energy[inside].mean()))
            gaps.append(end - start)
        print(
            f"{label}: energy inside words {min(inside_shares):.4f}-{max(inside_shares):.4f}, "
            f"pause level / speech {max(gap_levels):.5f} at most, "
            f"pause {min(gaps):.3f}-{max(gaps):.3f} s"
        )


if __name__ == "__main__":
    main()
