"""POST /api/v1/tts/synthesize (bounded, synchronous) and /synthesize/async (a job)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from voxify.api.deps import CurrentUser, ServicesDep
from voxify.api.envelope import respond
from voxify.db.session import session_scope
from voxify.errors import IncompatibleOptions
from voxify.files.service import download_path
from voxify.jobs import service as jobs_service
from voxify.jobs.estimates import estimate_s
from voxify.jobs.recovery import launch_job
from voxify.status import JobType
from voxify.synthesis.schemas import TTSRequest
from voxify.synthesis.timings import word_timings

router = APIRouter(prefix="/api/v1/tts", tags=["tts"])


@router.post("/synthesize")
async def synthesize(
    data: TTSRequest, request: Request, user: CurrentUser, services: ServicesDep
) -> JSONResponse:
    """Synthesize short text now and return where to download it."""
    result = await services.speech.synthesize(user, data.speech())
    file, voice = result.file, result.voice
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
    if data.timestamps:
        body.update(word_timings(result.audio, voice.engine))
    return respond(body, message="Speech synthesis completed")


@router.post("/synthesize/async", status_code=202)
def synthesize_async(data: TTSRequest, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Queue a synthesis job for text of any supported length."""
    if data.timestamps:
        raise IncompatibleOptions(
            "Word timestamps come with /tts/synthesize and the SSE stream, not with jobs",
            details={"param": "timestamps"},
        )
    with session_scope(services.sessions) as session:
        job = jobs_service.create_synthesis_job(
            session=session, speech=services.speech, user=user, data=data.job()
        )
        body = {
            "synthesis_id": job.id,
            "job_id": job.id,
            "status": job.status,
            "estimated_duration": estimate_s(
                session=session, job_type=JobType.SYNTHESIS, words=job.word_count
            ),
            "progress_url": f"/api/v1/jobs/{job.id}/progress",
            "audio_path": f"/api/v1/files/audio/{job.id}",
        }
    launch_job(services.launcher, job.id)
    return respond(body, message="Asynchronous speech synthesis job created", status_code=202)
