"""Text that reaches an engine: normalised, validated, and split into sentence-sized chunks."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from voxify.errors import InvalidParameter, TextTooLong

# Control characters other than tab/newline, and format characters (zero-width, bidi
# overrides) say nothing to a listener and are a favourite of abusive input.
_DROP_CATEGORIES = {"Cc", "Cf", "Co", "Cn"}
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")


def clean_text(text: str, *, max_chars: int) -> str:
    """NFC-normalise, drop invisible characters, collapse spaces; reject unspeakable text."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise InvalidParameter("Text contains invalid unicode (lone surrogates)")
    text = unicodedata.normalize("NFC", text)
    kept = "".join(
        c if c in "\n\t" or unicodedata.category(c) not in _DROP_CATEGORIES else " " for c in text
    )
    cleaned = re.sub(r"[ \t]+", " ", kept).strip()
    if not cleaned:
        raise InvalidParameter("Text is empty")
    if len(cleaned) > max_chars:
        raise TextTooLong(
            f"Text has {len(cleaned)} characters; the limit here is {max_chars}",
            details={"length": len(cleaned), "max_length": max_chars},
        )
    if not any(unicodedata.category(c)[0] in "LN" for c in cleaned):
        raise InvalidParameter("Text contains nothing speakable (no letters or digits)")
    return cleaned


def text_hash(text: str) -> str:
    """SHA-256 of the text, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def word_count(text: str) -> int:
    """Whitespace-separated words."""
    return len(text.split())


def split_chunks(text: str, *, max_chars: int = 400) -> list[str]:
    """Split at sentence ends into chunks of at most about ``max_chars`` characters."""
    chunks: list[str] = []
    current = ""
    for sentence in (s.strip() for s in _SENTENCE_END.split(text)):
        if not sentence:
            continue
        while len(sentence) > max_chars:  # a run-on sentence: cut at the last space
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            if current:
                chunks.append(current)
                current = ""
            chunks.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > max_chars:
            chunks.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        chunks.append(current)
    return chunks
