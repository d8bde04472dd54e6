"""Streaming synthesis: Server-Sent Events (seed 001) and raw chunked audio.

Both render piece by piece on the engine's pool and send each piece as soon as it exists. The
first piece is awaited before the response starts, so a busy pool or a bad voice still answers
with a status code and the envelope; a client that goes away stops the rendering.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from voxify import limits
from voxify.api.context import Services
from voxify.api.deps import CurrentUser, ServicesDep
from voxify.api.routers.tts import WORDS_PER_SECOND, TTSRequest, refund_synthesis
from voxify.audio.encode import FORMATS, encode, pcm16, wav_header
from voxify.db.models import User
from voxify.db.session import session_scope
from voxify.engines.base import Audio
from voxify.engines.pool import Chunk
from voxify.engines.render import SynthesisRequest
from voxify.errors import InvalidParameter, SynthesisFailed, Unavailable
from voxify.files import repository as files_repository
from voxify.files.service import discard, download_path, write_audio
from voxify.ids import new_id
from voxify.jobs.schemas import LANGUAGE_PATTERN
from voxify.text import clean_text, word_count
from voxify.voices.resolve import resolve_voice, synthesis_request

router = APIRouter(prefix="/api/v1/tts", tags=["tts"])
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class StreamRequest(TTSRequest):
    """POST /tts/stream: what /tts/synthesize takes, plus the raw stream's encoding."""

    format: Literal["wav", "pcm"] = Field("wav", description="wav: 16-bit PCM WAV of unknown "
                                          "length; pcm: raw 16-bit little-endian mono samples")


@dataclass(frozen=True)
class Started:
    """A stream whose first chunk exists: what the response needs to begin."""

    request: SynthesisRequest
    first: Chunk
    rest: AsyncGenerator[Chunk, None]


@router.get("/synthesize/stream")
async def synthesize_stream(
    request: Request, user: CurrentUser, services: ServicesDep,
    text: str = Query(min_length=1, max_length=200_000),
    voice_id: str | None = Query(None, min_length=1, max_length=64),
    language: str = Query("en-US", pattern=LANGUAGE_PATTERN, max_length=16),
    format: Literal["wav", "mp3", "flac", "ogg"] = Query("wav"),
    speed: float = Query(1.0, ge=0.5, le=2.0),
    pitch: float = Query(1.0, ge=0.5, le=2.0),
    volume: float = Query(1.0, ge=0.0, le=2.0),
    sample_rate: int | None = Query(None, ge=8000, le=48000),
    seed: int | None = Query(None, ge=0, le=2**31 - 1),
) -> StreamingResponse:
    """Speech as Server-Sent Events: job_info, progress, audio_chunk..., completed.

    Each ``audio_chunk`` carries its audio inline as a ``data:`` URL in ``format``; the whole
    speech is stored as a file named in ``completed``, as /tts/synthesize would store it.
    """
    started = await _start(services, user, text=text, voice_id=voice_id, language=language,
                           speed=speed, pitch=pitch, volume=volume, sample_rate=sample_rate,
                           seed=seed, check_format=format)
    synthesis_id = new_id("file")  # the id the whole speech is stored under at the end
    base_url = str(request.base_url).rstrip("/")

    async def events() -> AsyncIterator[str]:
        yield _sse({"type": "job_info", "synthesis_id": synthesis_id,
                    "voice_id": started.request.voice_id, "engine": started.request.engine,
                    "estimated_duration": round(word_count(started.request.text)
                                                / WORDS_PER_SECOND, 1),
                    "format": format,
                    "sample_rate": started.first.audio.sample_rate})
        yield _sse({"type": "progress", "progress": 0.0, "message": "Synthesizing..."})
        pieces: list[Audio] = []
        try:
            async for chunk in _chunks(started):
                pieces.append(chunk.audio)
                yield _sse({"type": "audio_chunk", "chunk_id": len(pieces),
                            "audio_url": _data_url(chunk.audio, format),
                            "duration": round(chunk.audio.duration, 3),
                            "sample_rate": chunk.audio.sample_rate})
                yield _sse({"type": "progress", "progress": round(chunk.progress, 3),
                            "message": f"Synthesized {len(pieces)} chunk(s)"})
            audio = _join(pieces)
            await run_in_threadpool(_store, services, user.id, audio, format, synthesis_id)
        except Exception as exc:  # the response has started: report in-band, then end
            yield _sse({"type": "error", "code": getattr(exc, "code", SynthesisFailed.code),
                        "message": getattr(exc, "message", SynthesisFailed.default_message)})
            return
        yield _sse({"type": "completed", "synthesis_id": synthesis_id, "file_id": synthesis_id,
                    "audio_url": base_url + download_path(synthesis_id),
                    "audio_path": download_path(synthesis_id), "format": format,
                    "duration": round(audio.duration, 3), "chunks": len(pieces)})

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)


@router.post("/stream")
async def stream_audio(data: StreamRequest, user: CurrentUser,
                       services: ServicesDep) -> StreamingResponse:
    """Speech as one chunked HTTP response (``audio/wav`` or ``audio/pcm``), sent as rendered."""
    options = data.config
    started = await _start(services, user, text=data.text, voice_id=data.voice_id,
                           language=data.language, speed=options.speed, pitch=options.pitch,
                           volume=options.volume, sample_rate=options.sample_rate,
                           seed=data.seed, check_format="wav")
    rate = started.first.audio.sample_rate

    async def body() -> AsyncIterator[bytes]:
        if data.format == "wav":
            yield wav_header(rate)
        async for chunk in _chunks(started):
            yield pcm16(chunk.audio)

    media_type = "audio/wav" if data.format == "wav" else "audio/pcm"
    headers = {"X-Sample-Rate": str(rate), "X-Channels": "1", "X-Sample-Format": "s16le",
               "X-Voice-Id": started.request.voice_id, "Cache-Control": "no-cache"}
    return StreamingResponse(body(), media_type=media_type, headers=headers)


async def _start(services: Services, user: User, *, text: str, voice_id: str | None,
                 language: str, check_format: str, **options: Any) -> Started:
    """Validate, count against the daily quota, and wait for the first chunk."""
    request = await run_in_threadpool(_prepare, services, user, text=text, voice_id=voice_id,
                                      language=language, **options)
    rest = services.synthesis.stream(request)
    try:
        first = await anext(rest)
    except StopAsyncIteration as exc:
        raise SynthesisFailed("The engine produced no audio") from exc
    except BaseException as exc:
        await rest.aclose()
        if isinstance(exc, Unavailable):
            await run_in_threadpool(refund_synthesis, services, user.id)
        raise
    try:
        _check_encodable(first.audio, check_format)
    except BaseException:
        await rest.aclose()
        raise
    return Started(request=request, first=first, rest=rest)


def _prepare(services: Services, user: User, *, text: str, voice_id: str | None,
             language: str, **options: Any) -> SynthesisRequest:
    settings = services.settings
    cleaned = clean_text(text, max_chars=settings.max_stream_text_chars)
    speakers = services.synthesis.xtts_speakers()
    with session_scope(services.sessions) as session:
        voice = resolve_voice(session=session, user=user, voice_id=voice_id, language=language,
                              xtts_speakers=speakers)
        limits.hit_daily(session=session, key=limits.synthesis_key(user.id),
                         limit=settings.syntheses_per_day)
    return synthesis_request(voice, text=cleaned, language=language, **options)


async def _chunks(started: Started) -> AsyncIterator[Chunk]:
    """The first chunk, then the rest; the pool's stream is closed however this one ends."""
    try:
        yield started.first
        async for chunk in started.rest:
            yield chunk
    finally:
        await started.rest.aclose()


def _check_encodable(audio: Audio, fmt: str) -> None:
    try:
        encode(Audio(np.zeros(64, np.float32), audio.sample_rate), fmt)
    except ValueError as exc:
        raise InvalidParameter(str(exc)) from exc


def _store(services: Services, owner_id: str, audio: Audio, fmt: str, file_id: str) -> None:
    file = write_audio(blobs=services.blobs, owner_id=owner_id, audio=audio, fmt=fmt,
                       file_id=file_id)
    try:
        with session_scope(services.sessions) as session:
            files_repository.add_file(session=session, file=file)
    except Exception:
        discard(blobs=services.blobs, file=file)
        raise


def _join(pieces: list[Audio]) -> Audio:
    return Audio(np.concatenate([p.samples for p in pieces]), pieces[0].sample_rate)


def _data_url(audio: Audio, fmt: str) -> str:
    return f"data:{FORMATS[fmt]};base64,{base64.b64encode(encode(audio, fmt)).decode('ascii')}"


def _sse(event: dict[str, Any]) -> str:
    return f"data: {json.dumps(event)}\n\n"
