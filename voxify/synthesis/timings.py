"""Word timings as the API shows them, or why there are none."""

from __future__ import annotations

from typing import Any

from voxify.speech import Audio, WordTiming

UNAVAILABLE = {
    "xtts": "XTTS voices do not report word timings (its decoder has no phoneme durations, "
    "and no forced aligner with bundled weights ships with Voxify)",
}


def _word_list(words: tuple[WordTiming, ...], offset: float = 0.0) -> list[dict[str, Any]]:
    """Each word with its start and end in seconds, ``offset`` added."""
    return [
        {"word": w.word, "start": round(w.start + offset, 3), "end": round(w.end + offset, 3)}
        for w in words
    ]


def word_timings(audio: Audio, engine: str, offset: float = 0.0) -> dict[str, Any]:
    """``{"words": [...]}`` (``offset`` added to every time), or ``{"words": None,
    "timestamps_unavailable": reason}``."""
    if audio.words is None:
        reason = UNAVAILABLE.get(engine, f"The {engine} engine does not report word timings")
        return {"words": None, "timestamps_unavailable": reason}
    return {"words": _word_list(audio.words, offset)}
