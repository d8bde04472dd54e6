"""The voice model library: presets of every engine and the caller's custom voices, filtered,
sorted and paged; previews, favorites, saved blends; nearest voices by embedding."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from voxify.api.context import Services
from voxify.api.deps import CurrentUser, PageDep, ServicesDep
from voxify.api.envelope import respond
from voxify.db.session import session_scope
from voxify.voices import clones
from voxify.voices.library import Voice
from voxify.voices.previews import (
    PREVIEW_FORMAT,
    favorite_ids,
    favorites_count,
    preview_url,
    set_favorite,
)
from voxify.voices.schemas import VoiceCreate
from voxify.voices.similarity import nearest_voices

router = APIRouter(prefix="/api/v1/voice/models", tags=["voices"])


@router.get("")
async def list_models(
    user: CurrentUser,
    services: ServicesDep,
    page: PageDep,
    tags: str | None = None,
    language: str | None = None,
    type: Literal["preset", "custom"] | None = None,
    gender: Literal["female", "male"] | None = None,
    engine: Literal["piper", "kokoro", "xtts"] | None = None,
    favorite: bool | None = None,
    sort: Literal["name", "created_at", "quality_score", "language"] | None = None,
    order: Literal["asc", "desc"] = "asc",
    similar_to: Annotated[str | None, Query(max_length=64)] = None,
) -> JSONResponse:
    """Voices the caller may use, filtered by tags (comma-separated, all must match),
    language, type, gender, engine and the caller's favorites, then sorted; with
    ``similar_to``, ordered by speaker similarity to that sample or voice."""
    catalogue = services.catalogue
    similarity: dict[str, float] = {}
    if similar_to:
        ranked = await nearest_voices(
            sessions=services.sessions,
            voiceprints=services.voiceprints_async,
            synthesis=services.synthesis,
            catalogue=catalogue,
            user=user,
            reference_id=similar_to,
            limit=page.offset + page.limit,
        )
        similarity = {voice.voice_model_id: score for voice, score in ranked}
        voices = [voice for voice, _ in ranked]
    else:

        def available() -> list[Voice]:
            with session_scope(services.sessions) as session:
                return catalogue.available(session=session, user=user)

        voices = await run_in_threadpool(available)
    favorites = await run_in_threadpool(_favorites, services, user.id)
    meta_filters = {
        "available_tags": sorted({t for v in voices for t in v.tags}),
        "available_languages": sorted({lang for v in voices for lang in v.languages}),
        "available_types": sorted({v.type for v in voices}),
        "available_genders": sorted({v.gender for v in voices if v.gender}),
        "available_engines": sorted({v.engine for v in voices}),
    }
    voices = _filter(voices, tags=tags, language=language, type=type)
    if gender:
        voices = [v for v in voices if v.gender == gender]
    if engine:
        voices = [v for v in voices if v.engine == engine]
    if favorite is not None:
        voices = [v for v in voices if (v.voice_model_id in favorites) == favorite]
    if sort and not similar_to:
        voices = _sorted(voices, sort, descending=order == "desc")
    window = voices[page.offset : page.offset + page.limit]
    limit = services.settings.max_job_text_chars
    data: list[dict[str, Any]] = []
    for voice in window:
        item = voice.public(max_text_length=limit)
        item["is_favorite"] = voice.voice_model_id in favorites
        if similar_to:
            item["similarity"] = similarity[voice.voice_model_id]
        data.append(item)
    meta: dict[str, Any] = {"pagination": page.pagination(len(voices)), "filters": meta_filters}
    if similar_to:
        meta["similar_to"] = similar_to
    return respond(data, meta=meta)


@router.post("", status_code=201)
def save_voice(data: VoiceCreate, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Save a Kokoro blend (``af_bella(2)+af_sky(1)``) as one of the caller's custom voices."""
    with session_scope(services.sessions) as session:
        clone = clones.save_blend(
            session=session,
            catalogue=services.catalogue,
            user=user,
            name=data.name,
            blend=data.blend,
            description=data.description,
        )
        voice = services.catalogue.clone(clone)
    return respond(
        voice.public(max_text_length=services.settings.max_job_text_chars),
        message="Voice saved",
        status_code=201,
    )


@router.get("/{model_id}")
def get_model(model_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """One voice (a preset, a blend, or one of the caller's ready clones) with its
    configuration."""
    with session_scope(services.sessions) as session:
        voice = services.catalogue.find(session=session, owner_id=user.id, voice_id=model_id)
        favorite = voice.voice_model_id in favorite_ids(session=session, user_id=user.id)
    item = voice.public(max_text_length=services.settings.max_job_text_chars)
    return respond({**item, "is_favorite": favorite})


@router.get("/{model_id}/preview")
async def preview(model_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """The voice's preview (seed 000): where to fetch it and what it says; the first request
    renders and stores it, every later one reads it back."""
    voice, clip = await services.previews.get(user, model_id)
    return respond(
        {
            "voice_model_id": voice.voice_model_id,
            "preview_audio_url": preview_url(voice.voice_model_id),
            "preview_text": voice.preview_text,
            "duration": round(clip.duration, 3),
            "format": PREVIEW_FORMAT,
            "sample_rate": clip.sample_rate,
        }
    )


@router.post("/{model_id}/favorite")
def add_favorite(model_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Mark a voice the caller may use as a favorite."""
    return _favorite(services, user.id, model_id, favorite=True)


@router.delete("/{model_id}/favorite")
def remove_favorite(model_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Unmark a favorite voice."""
    return _favorite(services, user.id, model_id, favorite=False)


def _favorite(services: Services, user_id: str, voice_id: str, *, favorite: bool) -> JSONResponse:
    with session_scope(services.sessions) as session:
        voice = services.catalogue.find(session=session, owner_id=user_id, voice_id=voice_id)
        set_favorite(
            session=session, user_id=user_id, voice_id=voice.voice_model_id, favorite=favorite
        )
        count = favorites_count(session=session, voice_id=voice.voice_model_id)
    return respond(
        {"voice_model_id": voice.voice_model_id, "is_favorite": favorite, "favorites_count": count},
        message=f"Voice model {'added to' if favorite else 'removed from'} favorites",
    )


def _favorites(services: Services, user_id: str) -> set[str]:
    with session_scope(services.sessions) as session:
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
