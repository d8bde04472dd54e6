"""The OpenAI-compatible door: POST /v1/audio/speech, GET /v1/models, GET /v1/audio/voices.

What OpenAI's SDK and the tools built on it (Open WebUI, SillyTavern, Home Assistant) send.
Speech goes through the same synthesis service as every other door: the same text limits,
voice ownership, quotas and format rules; only the vocabulary and the error shape differ.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from voxify.api.context import Services
from voxify.api.deps import CurrentUser, ServicesDep
from voxify.api.openapi import audio_answer
from voxify.audio.encode import content_type
from voxify.db.session import session_scope
from voxify.errors import InvalidParameter, NotFound, VoxifyError
from voxify.synthesis import Speech
from voxify.synthesis.openai import (
    MODEL_CREATED,
    MODELS,
    OPENAI_VOICES,
    PCM_RATE,
    Tier,
    preset_for,
)

router = APIRouter(prefix="/v1", tags=["openai"])
MAX_INPUT_CHARS = 4096


class VoiceRef(BaseModel):
    id: str = Field(min_length=1, max_length=64)


class SpeechBody(BaseModel):
    """OpenAI's speech request; fields it may add later are ignored, not refused."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=64, examples=["tts-1"])
    input: str = Field(min_length=1, max_length=MAX_INPUT_CHARS, examples=["Hello there."])
    voice: str | VoiceRef = Field(examples=["alloy"])
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: float = Field(1.0, ge=0.25, le=4.0)
    instructions: str | None = Field(None, max_length=4096)  # no engine here can follow them
    stream_format: Literal["audio", "sse"] = "audio"

    def voice_name(self) -> str:
        return self.voice.id if isinstance(self.voice, VoiceRef) else self.voice


@router.post(
    "/audio/speech",
    response_model=None,
    response_class=StreamingResponse,
    responses=audio_answer("The speech (stream_format 'sse': its events)", events=True),
)
async def create_speech(
    body: SpeechBody, user: CurrentUser, services: ServicesDep
) -> StreamingResponse:
    """Speech for ``input``, streamed as it renders (raw audio bytes, or SSE events)."""
    tier = MODELS.get(body.model)
    if tier is None:
        raise InvalidParameter(
            f"Unknown model '{body.model}'; use one of {', '.join(MODELS)}",
            details={"param": "model"},
        )
    fmt = body.response_format
    speech = Speech(
        text=body.input,
        voice_id=_voice_id(body.voice_name(), tier, services),
        language=None,  # the voice's own: OpenAI's API has no language field
        output_format=fmt,
        sample_rate=PCM_RATE if fmt == "pcm" else None,
        speed=body.speed,
    )
    try:
        stream = await services.speech.stream(user, speech, via="openai")
    except NotFound as exc:  # OpenAI answers an unknown voice with 400 on "voice"
        raise InvalidParameter(exc.message, details={"param": "voice"}) from exc
    rate = stream.first.audio.sample_rate
    if body.stream_format == "audio":
        headers = {"X-Voice-Id": stream.admitted.request.voice_id, "X-Sample-Rate": str(rate)}
        return StreamingResponse(
            stream.encoded(fmt), media_type=content_type(fmt, rate), headers=headers
        )

    async def events() -> AsyncIterator[str]:
        try:
            async for data in stream.encoded(fmt):
                event = {"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()}
                yield _sse(event)
        except VoxifyError as exc:  # the response has begun: report in-band
            yield _sse({"type": "error", "error": {"message": exc.message, "code": exc.code}})
            return
        tokens = len(body.input.split())
        usage = {"input_tokens": tokens, "output_tokens": 0, "total_tokens": tokens}
        yield _sse({"type": "speech.audio.done", "usage": usage})

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


@router.get("/models")
@router.get("/audio/models")  # where some TTS front-ends (SillyTavern, Open WebUI) look
def list_models(user: CurrentUser) -> JSONResponse:
    """The model names this door accepts."""
    return JSONResponse({"object": "list", "data": [_model(name) for name in MODELS]})


@router.get("/models/{model_id}")
def get_model(model_id: str, user: CurrentUser) -> JSONResponse:
    """One accepted model name."""
    if model_id not in MODELS:
        raise NotFound(f"The model '{model_id}' does not exist", details={"param": "model"})
    return JSONResponse(_model(model_id))


@router.get("/audio/voices")
def list_voices(user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """OpenAI's voice names, then every Voxify voice the caller may speak with."""
    with session_scope(services.sessions) as session:
        voices = services.catalogue.available(session=session, user=user)
    listed = [{"id": name, "name": name.capitalize()} for name in OPENAI_VOICES]
    listed += [{"id": voice.voice_model_id, "name": voice.name} for voice in voices]
    return JSONResponse({"voices": listed})


def _voice_id(name: str, tier: Tier, services: Services) -> str:
    """An OpenAI voice name as a preset of the model's engine; anything else is taken as a
    Voxify voice id (presets and the caller's own clones), checked by the synthesis service."""
    if name.lower() in OPENAI_VOICES:
        return preset_for(name.lower(), tier, services.catalogue.presets()).voice_model_id
    return name


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": MODEL_CREATED, "owned_by": "voxify"}


def _sse(event: dict[str, Any]) -> str:
    return f"data: {json.dumps(event)}\n\n"
