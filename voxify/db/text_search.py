"""Substring search in SQL: the user's text matched literally (LIKE wildcards escaped)."""

from __future__ import annotations

ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A lower-case LIKE pattern matching ``text`` anywhere (use with ``escape=ESCAPE``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"
