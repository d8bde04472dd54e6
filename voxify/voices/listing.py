"""The voice library as a caller browses it: the voices they may use, filtered, sorted, with
their favorites and, asked for, ranked by likeness to a sample or voice. Every door that lists
voices (REST /voice/models, gRPC ListVoices) asks here."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker

from voxify.db.models import User
from voxify.db.session import session_scope
from voxify.ports import AsyncVoiceprints, Synthesis
from voxify.voices.catalogue import VoiceCatalogue
from voxify.voices.library import Voice
from voxify.voices.previews import favorite_ids
from voxify.voices.similarity import nearest_voices

VoiceType = Literal["preset", "custom"]
Gender = Literal["female", "male"]
EngineName = Literal["piper", "kokoro", "xtts"]
SortKey = Literal["name", "created_at", "quality_score", "language"]


class VoiceQuery(BaseModel):
    """Which voices to list and in what order (every filter optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tags: str | None = None  # comma-separated; every one must match
    language: str | None = None  # "en": voices that speak it; "en-GB": native to the region
    type: VoiceType | None = None
    gender: Gender | None = None
    engine: EngineName | None = None
    favorite: bool | None = None
    sort: SortKey | None = None
    order: Literal["asc", "desc"] = "asc"
    similar_to: str | None = Field(None, max_length=64)


@dataclass(frozen=True)
class VoiceListing:
    """Every voice that matched, in order; the caller's favorites; the similarity of each
    ranked voice (with ``similar_to``); the values the caller's voices have before filtering."""

    voices: list[Voice]
    favorites: set[str]
    similarity: dict[str, float]
    available: dict[str, list[str]]


class Sources(Protocol):
    """What the library reads (the API's Services has it)."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def voiceprints_async(self) -> AsyncVoiceprints: ...

    @property
    def synthesis(self) -> Synthesis: ...

    @property
    def catalogue(self) -> VoiceCatalogue: ...


async def list_voices(
    sources: Sources, *, user: User, query: VoiceQuery, ranked: int
) -> VoiceListing:
    """The voices ``user`` may use that match ``query``; with ``similar_to``, the ``ranked``
    most similar ones, nearest first. The database is read on worker threads."""
    similarity: dict[str, float] = {}
    sessions, catalogue = sources.sessions, sources.catalogue
    if query.similar_to:
        nearest = await nearest_voices(
            sessions=sessions,
            voiceprints=sources.voiceprints_async,
            synthesis=sources.synthesis,
            catalogue=catalogue,
            user=user,
            reference_id=query.similar_to,
            limit=ranked,
        )
        similarity = {voice.voice_model_id: score for voice, score in nearest}
        voices = [voice for voice, _ in nearest]
    else:
        voices = await asyncio.to_thread(_available, sessions, catalogue, user)
    favorites = await asyncio.to_thread(_favorites, sessions, user.id)
    available = {
        "available_tags": sorted({t for v in voices for t in v.tags}),
        "available_languages": sorted({lang for v in voices for lang in v.languages}),
        "available_types": sorted({v.type for v in voices}),
        "available_genders": sorted({v.gender for v in voices if v.gender}),
        "available_engines": sorted({v.engine for v in voices}),
    }
    voices = _filter(voices, tags=query.tags, language=query.language, type=query.type)
    if query.gender:
        voices = [v for v in voices if v.gender == query.gender]
    if query.engine:
        voices = [v for v in voices if v.engine == query.engine]
    if query.favorite is not None:
        voices = [v for v in voices if (v.voice_model_id in favorites) == query.favorite]
    if query.sort and not query.similar_to:
        voices = _sorted(voices, query.sort, descending=query.order == "desc")
    return VoiceListing(voices, favorites, similarity, available)


def _available(
    sessions: sessionmaker[Session], catalogue: VoiceCatalogue, user: User
) -> list[Voice]:
    with session_scope(sessions) as session:
        return catalogue.available(session=session, user=user)


def _favorites(sessions: sessionmaker[Session], user_id: str) -> set[str]:
    with session_scope(sessions) as session:
        return favorite_ids(session=session, user_id=user_id)


def _sorted(voices: list[Voice], key: str, *, descending: bool) -> list[Voice]:
    """Sorted by ``key``; voices without a value (no quality score) go last either way."""
    present = [v for v in voices if getattr(v, key) is not None]
    missing = [v for v in voices if getattr(v, key) is None]
    present.sort(key=lambda v: (getattr(v, key), v.voice_model_id), reverse=descending)
    return present + missing


def _filter(
    voices: list[Voice], *, tags: str | None, language: str | None, type: str | None
) -> list[Voice]:
    wanted = {t.strip().lower() for t in (tags or "").split(",") if t.strip()}
    if wanted:
        voices = [v for v in voices if wanted <= set(v.tags)]
    if language and "-" in language:  # a region asked for: voices native to it
        wanted_tag, primary = language.lower(), language.split("-")[0].lower()
        voices = [v for v in voices if v.language.lower() in (wanted_tag, primary)]
    elif language:
        voices = [v for v in voices if v.supports_language(language)]
    if type:
        voices = [v for v in voices if v.type == type]
    return voices
