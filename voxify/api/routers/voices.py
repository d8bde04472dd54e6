"""The voice model library: presets and the caller's clones; nearest voices by embedding."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from voxify.api.deps import CurrentUser, PageDep, ServicesDep
from voxify.api.envelope import respond
from voxify.db.session import session_scope
from voxify.voices.library import Voice
from voxify.voices.similarity import nearest_voices

router = APIRouter(prefix="/api/v1/voice/models", tags=["voices"])


@router.get("")
async def list_models(
    user: CurrentUser,
    services: ServicesDep,
    page: PageDep,
    tags: str | None = None,
    language: str | None = None,
    type: str | None = None,
    similar_to: Annotated[str | None, Query(max_length=64)] = None,
) -> JSONResponse:
    """Voices the caller may use, filtered by tags (comma-separated, all must match),
    language and type; with ``similar_to``, ordered by speaker similarity to that sample or
    voice."""
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
    meta_filters = {
        "available_tags": sorted({t for v in voices for t in v.tags}),
        "available_languages": sorted({lang for v in voices for lang in v.languages}),
        "available_types": sorted({v.type for v in voices}),
    }
    voices = _filter(voices, tags=tags, language=language, type=type)
    window = voices[page.offset : page.offset + page.limit]
    limit = services.settings.max_job_text_chars
    data: list[dict[str, Any]] = []
    for voice in window:
        item = voice.public(max_text_length=limit)
        if similar_to:
            item["similarity"] = similarity[voice.voice_model_id]
        data.append(item)
    meta: dict[str, Any] = {"pagination": page.pagination(len(voices)), "filters": meta_filters}
    if similar_to:
        meta["similar_to"] = similar_to
    return respond(data, meta=meta)


@router.get("/{model_id}")
def get_model(model_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """One voice (a preset, or one of the caller's ready clones) with its configuration."""
    with session_scope(services.sessions) as session:
        voice = services.catalogue.find(session=session, owner_id=user.id, voice_id=model_id)
    return respond(voice.public(max_text_length=services.settings.max_job_text_chars))


def _filter(
    voices: list[Voice], *, tags: str | None, language: str | None, type: str | None
) -> list[Voice]:
    wanted = {t.strip().lower() for t in (tags or "").split(",") if t.strip()}
    if wanted:
        voices = [v for v in voices if wanted <= set(v.tags)]
    if language:
        voices = [v for v in voices if v.supports_language(language)]
    if type:
        voices = [v for v in voices if v.type == type]
    return voices
