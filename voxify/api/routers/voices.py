"""The voice model library: presets of every engine and the caller's custom voices, filtered,
sorted and paged; previews, favorites, saved blends; nearest voices by embedding."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from voxify.api.context import Services
from voxify.api.deps import CurrentUser, PageDep, ServicesDep
from voxify.api.envelope import respond
from voxify.db.session import session_scope
from voxify.voices import clones
from voxify.voices.listing import EngineName, Gender, SortKey, VoiceQuery, VoiceType, list_voices
from voxify.voices.previews import (
    PREVIEW_FORMAT,
    favorite_ids,
    favorites_count,
    preview_url,
    set_favorite,
)
from voxify.voices.schemas import VoiceCreate

router = APIRouter(prefix="/api/v1/voice/models", tags=["voices"])


@router.get("")
async def list_models(
    user: CurrentUser,
    services: ServicesDep,
    page: PageDep,
    tags: str | None = None,
    language: str | None = None,
    type: VoiceType | None = None,
    gender: Gender | None = None,
    engine: EngineName | None = None,
    favorite: bool | None = None,
    sort: SortKey | None = None,
    order: Literal["asc", "desc"] = "asc",
    similar_to: Annotated[str | None, Query(max_length=64)] = None,
) -> JSONResponse:
    """Voices the caller may use, filtered by tags (comma-separated, all must match),
    language, type, gender, engine and the caller's favorites, then sorted; with
    ``similar_to``, ordered by speaker similarity to that sample or voice."""
    query = VoiceQuery(
        tags=tags,
        language=language,
        type=type,
        gender=gender,
        engine=engine,
        favorite=favorite,
        sort=sort,
        order=order,
        similar_to=similar_to,
    )
    listing = await list_voices(services, user=user, query=query, ranked=page.offset + page.limit)
    window = listing.voices[page.offset : page.offset + page.limit]
    limit = services.settings.max_job_text_chars
    data: list[dict[str, Any]] = []
    for voice in window:
        item = voice.public(max_text_length=limit)
        item["is_favorite"] = voice.voice_model_id in listing.favorites
        if similar_to:
            item["similarity"] = listing.similarity[voice.voice_model_id]
        data.append(item)
    meta: dict[str, Any] = {
        "pagination": page.pagination(len(listing.voices)),
        "filters": listing.available,
    }
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
        voice.public(max_text_length=services.limits.current().max_job_text_chars),
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
    item = voice.public(max_text_length=services.limits.current().max_job_text_chars)
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
