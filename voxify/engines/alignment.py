"""Word timings from a VITS model's phoneme durations.

Piper speaks phonemes, and the model says how many frames each phoneme id lasts, so every
phoneme has a start and an end in the audio. Which text word each phoneme belongs to is found
by aligning the phonemes spoken with those of each text word phonemized alone: espeak joins
words in context ("on the" is one group, "ɔnðə") and reduces vowels, so a sequence alignment,
not a count of word groups, maps the two. A word spans its phonemes; pauses for punctuation
and between sentences fall between words.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from voxify.speech import WordTiming

PAD, BOS, EOS, SPACE = "_", "^", "$", " "
# Stress and length marks are letters to unicodedata but make no sound on their own.
_PROSODY_MARKS = frozenset("ˈˌːˑ")


@dataclass(frozen=True)
class TimedPhoneme:
    """A sounding phoneme and where it sounds, in seconds."""

    phoneme: str
    start: float
    end: float


def sounds(phoneme: str) -> bool:
    """True for a phoneme that makes sound (not punctuation, a stress or length mark)."""
    return any(
        unicodedata.category(ch).startswith("L") and ch not in _PROSODY_MARKS for ch in phoneme
    )


def timed_phonemes(
    phonemes: Sequence[str],
    durations: np.ndarray,
    id_map: Mapping[str, Sequence[int]],
    seconds_per_frame: float,
    offset: float,
) -> list[TimedPhoneme]:
    """The sounding phonemes of one sentence with their times, from the frames of each
    phoneme id (laid out as Piper's phonemes_to_ids does: BOS PAD, each phoneme and a PAD,
    EOS). A phoneme's time includes the blank after it, its transition into the next."""
    edges = np.concatenate([[0.0], np.cumsum(np.asarray(durations, dtype=np.float64))])
    last = len(edges) - 1
    position = len(id_map[BOS]) + len(id_map[PAD])
    timed: list[TimedPhoneme] = []
    for phoneme in phonemes:
        if phoneme not in id_map:  # Piper skips these too
            continue
        first = position
        position += len(id_map[phoneme]) + len(id_map[PAD])
        if sounds(phoneme):
            start = offset + edges[min(first, last)] * seconds_per_frame
            end = offset + edges[min(position, last)] * seconds_per_frame
            timed.append(TimedPhoneme(phoneme, float(start), float(end)))
    return timed


def word_timings(
    text: str, spoken: Sequence[TimedPhoneme], phonemize: Callable[[str], Sequence[str]]
) -> list[WordTiming]:
    """Each spoken word of ``text`` with the span of its phonemes in ``spoken``.

    ``phonemize(token)`` gives the sounding phonemes of a whitespace-separated token said
    alone (none: the token is not spoken, like a lone dash).
    """
    tokens: list[str] = []
    expected: list[str] = []
    owner: list[int] = []  # token index of each expected phoneme
    for token in text.split():
        phonemes = list(phonemize(token))
        if phonemes:
            owner += [len(tokens)] * len(phonemes)
            expected += phonemes
            tokens.append(token)
    if not tokens or not spoken:
        return []
    assigned = _assign(
        [p.phoneme for p in spoken], expected, owner
    )  # token index per spoken phoneme
    spans: dict[int, tuple[float, float]] = {}
    for phoneme, index in zip(spoken, assigned, strict=True):
        start, end = spans.get(index, (phoneme.start, phoneme.end))
        spans[index] = (min(start, phoneme.start), max(end, phoneme.end))
    timings: list[WordTiming] = []
    previous_end = spoken[0].start
    for index, token in enumerate(tokens):
        # A word espeak swallowed whole in context takes no time, where it would have been.
        start, end = spans.get(index, (previous_end, previous_end))
        timings.append(WordTiming(_display(token), round(start, 3), round(end, 3)))
        previous_end = end
    return timings


def _assign(spoken: Sequence[str], expected: Sequence[str], owner: Sequence[int]) -> list[int]:
    """For each spoken phoneme, the token it belongs to: matched runs map one to one,
    differing runs in proportion, extra spoken phonemes to the token before them."""
    assigned = [-1] * len(spoken)
    matcher = difflib.SequenceMatcher(None, list(spoken), list(expected), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            assigned[i1:i2] = owner[j1:j2]
        elif tag == "replace":
            for i in range(i1, i2):
                assigned[i] = owner[j1 + (i - i1) * (j2 - j1) // (i2 - i1)]
    current = owner[0]
    for i, index in enumerate(assigned):  # "delete": spoken but not expected
        if index < 0:
            assigned[i] = current
        current = assigned[i]
    return assigned


def _display(token: str) -> str:
    """A token without the punctuation around it ("Hello," -> "Hello"), unless that is all."""
    stripped = token.strip(".,;:!?\"'()[]{}«»“”‘’…-–—")
    return stripped or token
