"""Text that reaches an engine: normalised, validated, and split into sentence-sized chunks."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from voxify.errors import InvalidParameter, TextTooLong

# Control characters other than tab/newline, and format characters (zero-width, bidi
# overrides) say nothing to a listener and are a favourite of abusive input.
_DROP_CATEGORIES = {"Cc", "Cf", "Co", "Cn"}
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")
# Whitespace other than newlines (spaces, tabs, NBSP, em spaces, ...) collapses to one space,
# so no later pattern meets a long run of it.
_SPACES = re.compile(r"[^\S\n]+")
# Raw text this many times the limit is refused before any work: cleaning only shrinks text
# by the invisible characters it drops and the spaces it collapses.
RAW_SLACK = 4
# Unicode's stream-safe form (UAX #15) allows 30 combining marks in a row; normalisation sorts
# each run, in time that grows with the square of its length.
MAX_COMBINING_RUN = 30


def clean_text(text: str, *, max_chars: int) -> str:
    """NFC-normalise, drop invisible characters, collapse spaces; reject unspeakable text.

    Linear in the text's length, and refused at once when far over ``max_chars``.
    """
    if len(text) > RAW_SLACK * max_chars + 64:
        raise _too_long(len(text), max_chars)
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise InvalidParameter("Text contains invalid unicode (lone surrogates)")
    _check_combining_runs(text)
    text = unicodedata.normalize("NFC", text)
    kept = "".join(
        c if c in "\n\t" or unicodedata.category(c) not in _DROP_CATEGORIES else " " for c in text
    )
    cleaned = _SPACES.sub(" ", kept).strip()
    if not cleaned:
        raise InvalidParameter("Text is empty")
    if len(cleaned) > max_chars:
        raise _too_long(len(cleaned), max_chars)
    if not any(unicodedata.category(c)[0] in "LN" for c in cleaned):
        raise InvalidParameter("Text contains nothing speakable (no letters or digits)")
    return cleaned


def _too_long(length: int, max_chars: int) -> TextTooLong:
    return TextTooLong(
        f"Text has {length} characters; the limit here is {max_chars}",
        details={"length": length, "max_length": max_chars},
    )


def _check_combining_runs(text: str) -> None:
    """InvalidParameter when more than MAX_COMBINING_RUN combining marks follow each other."""
    run = 0
    for c in text:
        run = run + 1 if unicodedata.combining(c) else 0
        if run > MAX_COMBINING_RUN:
            raise InvalidParameter(
                f"Text stacks more than {MAX_COMBINING_RUN} combining marks on one character",
                details={"max_combining_marks": MAX_COMBINING_RUN},
            )


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


# Where a sentence may be cut for streaming: after a comma, semicolon, colon or dash.
_CLAUSE_END = re.compile(r"(?<=[,;:\u2013\u2014])\s+|\s+(?=[\u2013\u2014-]\s)")
_SPEAKABLE = re.compile(r"\w")
# Words that start a phrase (articles, prepositions, conjunctions): a cut before one of them
# sounds like a natural pause, a cut after one does not.
_PHRASE_STARTS = frozenset(
    {
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "about",
        "into",
        "over",
        "after",
        "before",
        "under",
        "and",
        "or",
        "but",
        "so",
        "because",
        "that",
        "which",
        "who",
        "when",
        "while",
        "if",
        "as",
        "than",
    }
)


@dataclass(frozen=True)
class Piece:
    """A stretch of text rendered on its own while streaming, and how it ends."""

    text: str
    end: str  # "sentence", "clause" or "word": what the listener hears after it


def stream_pieces(text: str, *, first_words: int = 4, max_chars: int = 250) -> list[Piece]:
    """Split text so the first audio comes quickly and the rest in natural units.

    The opening is the first clause, or its first ``first_words`` words when it is longer: a
    few words render in a fraction of a sentence's time (docs/benchmarks.md, Streaming). The
    rest of the first sentence follows in one piece, then whole sentences; a sentence longer
    than ``max_chars`` is cut at clauses, then words.
    """
    pieces: list[Piece] = []
    for sentence in (s.strip() for s in _SENTENCE_END.split(text)):
        if not _SPEAKABLE.search(sentence):
            continue
        if pieces and len(sentence) <= max_chars:
            pieces.append(Piece(sentence, "sentence"))
            continue
        clauses = [c.strip() for c in _CLAUSE_END.split(sentence) if c.strip()]
        parts: list[Piece] = []
        for clause in clauses:
            words = clause.split()
            limit = first_words if not pieces and not parts else None
            for chunk, end in _cut_words(words, limit=limit, max_chars=max_chars):
                parts.append(Piece(chunk, end))
        if not pieces and len(parts) > 2:  # after the opening, the rest of the sentence at once
            rest = " ".join(p.text for p in parts[1:])
            if len(rest) <= max_chars:
                parts = [parts[0], Piece(rest, "clause")]
        parts[-1] = Piece(parts[-1].text, "sentence")
        pieces.extend(p for p in parts if _SPEAKABLE.search(p.text))
    return _merge_unspeakable(pieces)


def _cut_words(words: list[str], *, limit: int | None, max_chars: int) -> list[tuple[str, str]]:
    """A clause as chunks: the first ``limit`` words alone (if given), the rest by length."""
    chunks: list[tuple[str, str]] = []
    if limit is not None and len(words) > limit:
        # Cut at a phrase boundary where there is one: before "of", "the", "and", ...
        starts = [w.lower() in _PHRASE_STARTS for w in words]
        cut = next((k for k in range(limit, 1, -1) if starts[k] and not starts[k - 1]), limit)
        chunks.append((" ".join(words[:cut]), "word"))
        words = words[cut:]
    current: list[str] = []
    for word in words:
        if current and len(" ".join([*current, word])) > max_chars:
            chunks.append((" ".join(current), "word"))
            current = []
        current.append(word)
    if current:
        chunks.append((" ".join(current), "clause"))
    return chunks


def _merge_unspeakable(pieces: list[Piece]) -> list[Piece]:
    """Pieces with no letters or digits (a lone dash) are folded into their neighbour."""
    merged: list[Piece] = []
    for piece in pieces:
        if merged and not _SPEAKABLE.search(piece.text):
            merged[-1] = Piece(f"{merged[-1].text} {piece.text}", piece.end)
        else:
            merged.append(piece)
    return merged
