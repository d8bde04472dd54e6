"""The voice model library: GET /api/v1/voice/models and /voice/models/{id}."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from voxify.api.deps import CurrentUser, PageDep, ServicesDep
from voxify.api.envelope import respond
from voxify.voices.library import get_voice, list_presets

router = APIRouter(prefix="/api/v1/voice/models", tags=["voices"])


@router.get("")
def list_models(
    user: CurrentUser,
    services: ServicesDep,
    page: PageDep,
    tags: str | None = None,
    language: str | None = None,
    type: str | None = None,
) -> JSONResponse:
    """Voices the caller may use, filtered by tags (comma-separated, all must match),
    language and type."""
    voices = list_presets()
    meta_filters = {
        "available_tags": sorted({t for v in voices for t in v.tags}),
        "available_languages": sorted({lang for v in voices for lang in v.languages}),
        "available_types": sorted({v.type for v in voices}),
    }
    wanted = {t.strip().lower() for t in (tags or "").split(",") if t.strip()}
    if wanted:
        voices = [v for v in voices if wanted <= set(v.tags)]
    if language:
        voices = [v for v in voices if v.supports_language(language)]
    if type:
        voices = [v for v in voices if v.type == type]
    window = voices[page.offset : page.offset + page.limit]
    limit = services.settings.max_job_text_chars
    data = [v.public(max_text_length=limit) for v in window]
    return respond(data, meta={"pagination": page.pagination(len(voices)),
                               "filters": meta_filters})


@router.get("/{model_id}")
def get_model(model_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """One voice with its configuration."""
    voice = get_voice(model_id)
    return respond(voice.public(max_text_length=services.settings.max_job_text_chars))
