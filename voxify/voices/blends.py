"""Kokoro voice blends: ``af_bella(2)+af_sky(1)`` (Kokoro-FastAPI's syntax) as weighted packs.

A blend is a tuple of (pack name, weight) whose weights sum to 1; the engine mixes the packs'
style vectors with them. A fitted clone is a blend too (its weights found by a search, and
allowed to be negative: a step beyond the stock voices in their span).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from voxify.errors import InvalidParameter

Blend = tuple[tuple[str, float], ...]

MAX_PARTS = 8
_PART = re.compile(r"^\s*([a-z]{2}_[a-z0-9]+)\s*(?:\(\s*(\d+(?:\.\d+)?)\s*\))?\s*$")


def is_blend_spec(voice_id: str) -> bool:
    """True when ``voice_id`` looks like a pack name or a blend of them (``a(2)+b(1)``)."""
    return all(_PART.match(part) for part in voice_id.split("+"))


def parse_blend(spec: str, *, known: Iterable[str]) -> Blend:
    """``af_bella(2)+af_sky(1)`` -> (("af_bella", 2/3), ("af_sky", 1/3)); a part without a
    weight weighs 1. InvalidParameter for unknown packs, zero weights or too many parts."""
    names = set(known)
    parts = spec.split("+")
    if len(parts) > MAX_PARTS:
        raise InvalidParameter(f"A blend mixes at most {MAX_PARTS} voices")
    weights: dict[str, float] = {}
    for part in parts:
        match = _PART.match(part)
        if match is None:
            raise InvalidParameter(
                f"'{part.strip()}' is not a Kokoro voice or weighted voice like 'af_bella(2)'"
            )
        name, weight = match.group(1), float(match.group(2) or 1)
        if name not in names:
            raise InvalidParameter(
                f"Unknown Kokoro voice '{name}'", details={"voices": sorted(names)}
            )
        weights[name] = weights.get(name, 0.0) + weight
    return normalized(weights)


def normalized(weights: Mapping[str, float]) -> Blend:
    """Weights scaled to sum to 1, heaviest first (ties by name), zero weights dropped."""
    total = sum(weights.values())
    if abs(total) < 1e-9:
        raise InvalidParameter("A blend's weights must not add up to zero")
    items = [(name, weight / total) for name, weight in weights.items() if weight != 0]
    items.sort(key=lambda item: (-abs(item[1]), item[0]))
    return tuple((name, round(weight, 6)) for name, weight in items)


def blend_spec(blend: Blend) -> str:
    """The canonical spelling of a blend, ``af_bella(0.667)+af_sky(0.333)`` (which parses back
    to the same weights); one pack alone is its name."""
    if len(blend) == 1 and abs(blend[0][1] - 1.0) < 1e-9:
        return blend[0][0]
    return "+".join(f"{name}({weight:.3g})" for name, weight in blend)
