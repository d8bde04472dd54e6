"""How natural speech sounds: DNSMOS P.808 (Microsoft's non-intrusive MOS estimator, its ONNX
models shipped in the speechmos package), on a 1-5 scale.

The clone job uses it as a gate: a candidate that sounds much less natural than the stock
voice it came from loses to one that does not, whatever the speaker encoder says.
"""

from __future__ import annotations

import numpy as np

from voxify.audio.effects import resample
from voxify.speech import Audio

RATE = 16_000  # the rate DNSMOS listens at
PEAK = 0.9  # it scores level too: every clip is peak-normalised first


def naturalness(audio: Audio) -> float:
    """The P.808 MOS estimate of mono speech (clips under 9 s are looped, as DNSMOS does)."""
    from speechmos import dnsmos  # imports librosa: paid for by the first clone job only

    samples = np.asarray(audio.samples, dtype=np.float32)
    if audio.sample_rate != RATE:
        samples = resample(samples, audio.sample_rate, RATE)
    samples = samples / max(1e-6, float(np.abs(samples).max())) * PEAK
    return float(dnsmos.run(np.ascontiguousarray(samples, dtype=np.float32), RATE)["p808_mos"])
