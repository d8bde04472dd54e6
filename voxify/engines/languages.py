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


# Language (primary subtag, or a whole tag where the region matters) -> espeak-ng voice.
ESPEAK_VOICES = {
    "en": "en-us",
    "en-gb": "en",
    "en-au": "en",
    "en-nz": "en",
    "en-ie": "en",
    "es": "es",
    "es-419": "es-419",
    "es-mx": "es-419",
    "fr": "fr",
    "hi": "hi",
    "it": "it",
    "pt": "pt",
    "pt-br": "pt-br",
}


def espeak_voice(language: str) -> str | None:
    """The espeak-ng voice that phonemizes ``language`` for Kokoro, or None."""
    tag = language.lower()
    return ESPEAK_VOICES.get(tag) or ESPEAK_VOICES.get(tag.split("-")[0])


def kokoro_language(language: str) -> str:
    """The language a Kokoro voice fitted to samples in ``language`` speaks: that language
    where espeak-ng phonemizes it for Kokoro, else US English."""
    return language if espeak_voice(language) else "en-US"
