"""Streaming synthesis: Server-Sent Events (seed 001) and raw chunked audio.

Both render piece by piece on the engine's pool and send each piece as soon as it exists. The
first piece is awaited before the response starts, so a busy pool or a bad voice still answers
with a status code and the envelope; a client that goes away stops the rendering.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from voxify.api.context import Services
from voxify.api.deps import CurrentUser, ServicesDep
from voxify.api.openapi import audio_answer, events_answer
from voxify.audio.encode import content_type, encode
from voxify.db.models import User
from voxify.errors import IncompatibleOptions, SynthesisFailed
from voxify.files.service import download_path
from voxify.ids import new_id
from voxify.jobs.schemas import LANGUAGE_PATTERN, OutputFormat
from voxify.speech import Audio
from voxify.synthesis import Speech
from voxify.synthesis.schemas import StreamRequest
from voxify.synthesis.timings import word_timings
from voxify.text import word_count

router = APIRouter(prefix="/api/v1/tts", tags=["tts"])
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
WORDS_PER_SECOND = 2.6  # speaking rate, for the audio length announced before rendering
# Text in a URL: percent-encoded (up to 9 bytes a character) it stays inside the HTTP server's
# 64 KiB request head, past which the server itself answers a plain-text 400 before any route
# runs. Longer text goes in a body: POST /tts/stream with Accept: text/event-stream.
URL_TEXT_CHARS = 5000


@router.get(
    "/synthesize/stream",
    response_class=StreamingResponse,
    responses=events_answer("job_info, progress, audio_chunk..., completed (or error)"),
)
async def synthesize_stream(
    request: Request,
    user: CurrentUser,
    services: ServicesDep,
    text: str = Query(min_length=1, max_length=URL_TEXT_CHARS),
    voice_id: str | None = Query(None, min_length=1, max_length=200),
    language: str | None = Query(None, pattern=LANGUAGE_PATTERN, max_length=16),
    format: Annotated[OutputFormat, Query()] = "wav",
    speed: float = Query(1.0, ge=0.5, le=2.0),
    pitch: float = Query(1.0, ge=0.5, le=2.0),
    volume: float = Query(1.0, ge=0.0, le=2.0),
    sample_rate: int | None = Query(None, ge=8000, le=48000),
    seed: int | None = Query(None, ge=0, le=2**31 - 1),
    timestamps: bool = Query(False),
) -> StreamingResponse:
    """Speech as Server-Sent Events: job_info, progress, audio_chunk..., completed.

    Each ``audio_chunk`` carries its audio inline as a ``data:`` URL in ``format``; the whole
    speech is stored as a file named in ``completed``, as /tts/synthesize would store it.
    ``POST /tts/stream`` with ``Accept: text/event-stream`` sends the same events for a
    request body (long text does not fit in a URL).
    """
    speech = Speech(
        text=text,
        voice_id=voice_id,
        language=language,
        output_format=format,
        sample_rate=sample_rate,
        speed=speed,
        pitch=pitch,
        volume=volume,
        seed=seed,
        timestamps=timestamps,
    )
    return await _event_stream(request, user, services, speech)


async def _event_stream(
    request: Request, user: User, services: Services, speech: Speech
) -> StreamingResponse:
    stream = await services.speech.stream(user, speech)
    planned = stream.admitted.request
    fmt, timestamps = speech.output_format, speech.timestamps
    synthesis_id = new_id("file")  # the id the whole speech is stored under at the end
    base_url = str(request.base_url).rstrip("/")

    async def events() -> AsyncIterator[str]:
        yield _sse(
            {
                "type": "job_info",
                "synthesis_id": synthesis_id,
                "voice_id": planned.voice_id,
                "engine": planned.engine,
                "estimated_duration": round(word_count(planned.text) / WORDS_PER_SECOND, 1),
                "format": fmt,
                "sample_rate": stream.first.audio.sample_rate,
            }
        )
        yield _sse({"type": "progress", "progress": 0.0, "message": "Synthesizing..."})
        pieces: list[Audio] = []
        start = 0.0  # where this chunk begins in the whole speech
        try:
            async for chunk in stream.chunks():
                pieces.append(chunk.audio)
                event: dict[str, Any] = {
                    "type": "audio_chunk",
                    "chunk_id": len(pieces),
                    "audio_url": _data_url(chunk.audio, fmt),
                    "start": round(start, 3),
                    "duration": round(chunk.audio.duration, 3),
                    "sample_rate": chunk.audio.sample_rate,
                }
                if timestamps:
                    event.update(word_timings(chunk.audio, planned.engine, offset=start))
                start += chunk.audio.duration
                yield _sse(event)
                yield _sse(
                    {
                        "type": "progress",
                        "progress": round(chunk.progress, 3),
                        "message": f"Synthesized {len(pieces)} chunk(s)",
                    }
                )
            audio = Audio.join(pieces)
            await run_in_threadpool(
                services.speech.store, user.id, audio, planned, fmt, file_id=synthesis_id
            )
        except Exception as exc:  # the response has started: report in-band, then end
            yield _sse(
                {
                    "type": "error",
                    "code": getattr(exc, "code", SynthesisFailed.code),
                    "message": getattr(exc, "message", SynthesisFailed.default_message),
                }
            )
            return
        yield _sse(
            {
                "type": "completed",
                "synthesis_id": synthesis_id,
                "file_id": synthesis_id,
                "audio_url": base_url + download_path(synthesis_id),
                "audio_path": download_path(synthesis_id),
                "format": fmt,
                "duration": round(audio.duration, 3),
                "chunks": len(pieces),
            }
        )

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)


@router.post(
    "/stream",
    response_class=StreamingResponse,
    responses=audio_answer("The speech in `format`, or its events", events=True),
)
async def stream_audio(
    data: StreamRequest, request: Request, user: CurrentUser, services: ServicesDep
) -> StreamingResponse:
    """Speech as one chunked HTTP response in ``format``, each piece sent as it is rendered;
    with ``Accept: text/event-stream``, as the events of ``GET /tts/synthesize/stream``."""
    if "text/event-stream" in request.headers.get("accept", ""):
        return await _event_stream(request, user, services, data.speech(output_format=data.format))
    if data.timestamps:
        raise IncompatibleOptions(
            "A raw audio stream cannot carry word timings; use the SSE stream "
            "(GET /api/v1/tts/synthesize/stream?timestamps=true) or /tts/synthesize",
            details={"param": "timestamps"},
        )
    stream = await services.speech.stream(user, data.speech(output_format=data.format))
    rate = stream.first.audio.sample_rate
    headers = {
        "X-Sample-Rate": str(rate),
        "X-Channels": "1",
        "X-Voice-Id": stream.admitted.request.voice_id,
        "Cache-Control": "no-cache",
    }
    media_type = content_type(data.format, rate)
    return StreamingResponse(stream.encoded(data.format), media_type=media_type, headers=headers)


def _data_url(audio: Audio, fmt: str) -> str:
    media_type = content_type(fmt, audio.sample_rate).replace(" ", "")
    return f"data:{media_type};base64,{base64.b64encode(encode(audio, fmt)).decode('ascii')}"


def _sse(event: dict[str, Any]) -> str:
    return f"data: {json.dumps(event)}\n\n"
