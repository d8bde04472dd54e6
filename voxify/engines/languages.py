"""The languages each engine speaks, as XTTS codes and the tags the API shows (no torch here)."""

from __future__ import annotations

# XTTS v2's 17 language codes with the tag the API shows for each.
XTTS_LANGUAGES = {
    "en": "en-US",
    "es": "es-ES",
    "fr": "fr-FR",
    "de": "de-DE",
    "it": "it-IT",
    "pt": "pt-BR",
    "pl": "pl-PL",
    "tr": "tr-TR",
    "ru": "ru-RU",
    "nl": "nl-NL",
    "cs": "cs-CZ",
    "ar": "ar-SA",
    "zh-cn": "zh-CN",
    "hu": "hu-HU",
    "ko": "ko-KR",
    "ja": "ja-JP",
    "hi": "hi-IN",
}

_NAMES = {
    "en-US": "US English",
    "en-GB": "British English",
    "es-ES": "Spanish",
    "fr-FR": "French",
    "hi-IN": "Hindi",
    "it-IT": "Italian",
    "pt-BR": "Brazilian Portuguese",
}


def language_name(tag: str) -> str:
    """A language tag as a person reads it (the tag itself where none is known)."""
    return _NAMES.get(tag, tag)
