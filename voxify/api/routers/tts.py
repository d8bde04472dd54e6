"""POST /api/v1/tts/synthesize (bounded, synchronous) and /synthesize/async (a job)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from voxify import limits
from voxify.api.context import Services
from voxify.api.deps import CurrentUser, ServicesDep
from voxify.api.envelope import respond
from voxify.db.session import session_scope
from voxify.errors import Unavailable
from voxify.files import repository as files_repository
from voxify.files.service import discard, download_path, write_audio
from voxify.jobs import service as jobs_service
from voxify.jobs.recovery import launch_job
from voxify.jobs.schemas import LANGUAGE_PATTERN, JobCreate, SynthesisOptions
from voxify.text import clean_text, word_count
from voxify.voices.resolve import resolve_voice, synthesis_request

router = APIRouter(prefix="/api/v1/tts", tags=["tts"])

# Piper speaks ~2.6 words/s and renders ~15x faster than real time on a small CPU.
WORDS_PER_SECOND = 2.6


class TTSRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=200_000)
    voice_id: str | None = Field(None, min_length=1, max_length=64)
    language: str = Field("en-US", pattern=LANGUAGE_PATTERN, max_length=16)
    config: SynthesisOptions = Field(default_factory=SynthesisOptions)
    seed: int | None = Field(None, ge=0, le=2**31 - 1, description="XTTS: same seed, same audio")


@router.post("/synthesize")
def synthesize(data: TTSRequest, request: Request, user: CurrentUser,
               services: ServicesDep) -> JSONResponse:
    """Synthesize short text now and return where to download it."""
    settings = services.settings
    text = clean_text(data.text, max_chars=settings.max_sync_text_chars)
    with session_scope(services.sessions) as session:
        voice = resolve_voice(session=session, user=user, voice_id=data.voice_id,
                              language=data.language,
                              xtts_speakers=services.synthesis.xtts_speakers())
        limits.hit_daily(session=session, key=limits.synthesis_key(user.id),
                         limit=settings.syntheses_per_day)
    options = data.config
    try:
        audio = services.synthesis.synthesize(synthesis_request(
            voice, text=text, language=data.language, speed=options.speed,
            pitch=options.pitch, volume=options.volume, sample_rate=options.sample_rate,
            seed=data.seed,
        ))
    except Unavailable:
        refund_synthesis(services, user.id)
        raise
    file = write_audio(blobs=services.blobs, owner_id=user.id, audio=audio,
                       fmt=options.output_format)
    try:
        with session_scope(services.sessions) as session:
            files_repository.add_file(session=session, file=file)
    except Exception:
        discard(blobs=services.blobs, file=file)
        raise
    body: dict[str, Any] = {
        "synthesis_id": file.id,
        "file_id": file.id,
        "voice_id": voice.voice_model_id,
        "audio_url": str(request.base_url).rstrip("/") + download_path(file.id),
        "audio_path": download_path(file.id),
        "duration": file.duration,
        "format": file.format,
        "sample_rate": file.sample_rate,
        "size": file.size,
    }
    return respond(body, message="Speech synthesis completed")


def refund_synthesis(services: Services, user_id: str) -> None:
    """The pool refused the work (503 + Retry-After): today's quota does not pay for it."""
    with session_scope(services.sessions) as session:
        limits.refund_daily(session=session, key=limits.synthesis_key(user_id))


@router.post("/synthesize/async", status_code=202)
def synthesize_async(data: TTSRequest, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Queue a synthesis job for text of any supported length."""
    options = data.config
    job_data = JobCreate(
        text_content=data.text, voice_model_id=data.voice_id, text_language=data.language,
        config={} if data.seed is None else {"seed": data.seed}, **options.model_dump(),
    )
    with session_scope(services.sessions) as session:
        job = jobs_service.create_synthesis_job(session=session, settings=services.settings,
                                                user=user, data=job_data,
                                                xtts_speakers=services.synthesis.xtts_speakers())
        body = {
            "synthesis_id": job.id,
            "job_id": job.id,
            "status": job.status,
            "estimated_duration": _estimate_s(job.text_content or ""),
            "progress_url": f"/api/v1/jobs/{job.id}/progress",
            "audio_path": f"/api/v1/files/audio/{job.id}",
        }
    launch_job(services.launcher, job.id)
    return respond(body, message="Asynchronous speech synthesis job created", status_code=202)


def _estimate_s(text: str) -> int:
    """Rough seconds until the job completes: audio length / real-time speed-up, plus queueing."""
    audio_s = word_count(text) / WORDS_PER_SECOND
    return max(1, round(audio_s / 15 + 1))
