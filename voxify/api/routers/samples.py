"""Voice samples: upload, list, get, delete, process, and train a clone from one sample."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse

from voxify.api.deps import CurrentUser, PageDep, ServicesDep
from voxify.api.envelope import respond
from voxify.db.session import session_scope
from voxify.errors import InvalidParameter
from voxify.jobs import repository as jobs_repository
from voxify.jobs.estimates import estimate_s
from voxify.jobs.recovery import launch_job
from voxify.jobs.schemas import LANGUAGE_PATTERN
from voxify.status import JobType, SampleStatus
from voxify.voices import repository, samples
from voxify.voices.clones import create_clone
from voxify.voices.purge import delete_and_purge
from voxify.voices.schemas import (
    SAMPLE_STATUSES,
    CloneCreate,
    SampleCreate,
    SamplePublic,
    TrainRequest,
)

router = APIRouter(prefix="/api/v1/voice/samples", tags=["voice samples"])


@router.post("", status_code=201)
def upload_sample(
    user: CurrentUser,
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="WAV, MP3, FLAC or OGG recording")],
    name: Annotated[str | None, Form(max_length=255)] = None,
    description: Annotated[str | None, Form(max_length=2000)] = None,
    language: Annotated[str, Form(max_length=16, pattern=LANGUAGE_PATTERN)] = "en-US",
    transcript: Annotated[str | None, Form(max_length=5000)] = None,
) -> JSONResponse:
    """Validate a recording and store it; processing is a separate step (``/process``)."""
    filename = samples.check_filename(file.filename)
    data = SampleCreate(
        name=(name or filename).strip() or filename,
        description=description,
        language=language,
        transcript=transcript,
    )
    in_force = services.limits.for_user(user)
    upload = samples.check_upload(
        file.file.read(in_force.max_upload_bytes + 1),
        settings=services.settings,
        max_bytes=in_force.max_upload_bytes,
    )
    sample_id = samples.new_sample_id()
    key = samples.upload_key(user.id, sample_id, upload.format)
    services.blobs.put(key, upload.data, samples.content_type(upload.format))
    try:
        with session_scope(services.sessions) as session:
            sample = samples.create_sample(
                session=session,
                uploads_per_day=in_force.uploads_per_day,
                user=user,
                data=data,
                upload=upload,
                filename=filename,
                sample_id=sample_id,
            )
            public = SamplePublic.of(sample)
    except BaseException:
        services.blobs.delete(key)  # no row, no bytes
        raise
    return respond(public, message="Voice sample uploaded successfully", status_code=201)


@router.get("")
def list_samples(
    user: CurrentUser,
    services: ServicesDep,
    page: PageDep,
    status: str | None = None,
    language: str | None = None,
) -> JSONResponse:
    """The caller's samples, newest first, filtered by status and language."""
    if status and status not in SAMPLE_STATUSES:
        raise InvalidParameter(f"Unknown status '{status}'", details={"allowed": SAMPLE_STATUSES})
    with session_scope(services.sessions) as session:
        rows, total = repository.list_samples(
            session=session,
            owner_id=user.id,
            status=status,
            language=language,
            limit=page.limit,
            offset=page.offset,
        )
        data = [SamplePublic.of(row) for row in rows]
    return respond(data, meta={"pagination": page.pagination(total)})


@router.get("/{sample_id}")
def get_sample(sample_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """One sample with its validation report and processing progress."""
    with session_scope(services.sessions) as session:
        sample = samples.get_sample(session=session, user=user, sample_id=sample_id)
        job = None
        if sample.job_id:
            job = jobs_repository.get_job(session=session, job_id=sample.job_id, owner_id=user.id)
        public = SamplePublic.of(sample, job)
    return respond(public)


@router.delete("/{sample_id}")
async def delete_sample(sample_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Delete a sample: its row, its blobs and its embedding."""
    await delete_and_purge(
        sessions=services.sessions,
        blobs=services.blobs,
        voiceprints=services.voiceprints_async,
        delete=lambda session: samples.delete_sample(
            session=session, user=user, sample_id=sample_id
        ),
        vector_id=sample_id,
    )
    return respond(
        {"sample_id": sample_id, "deleted": True}, message="Voice sample deleted successfully"
    )


@router.post("/{sample_id}/process", status_code=202)
def process_sample(sample_id: str, user: CurrentUser, services: ServicesDep) -> JSONResponse:
    """Start processing (decode, clean, validate, embed) as a background job."""
    with session_scope(services.sessions) as session:
        sample, job, created = samples.start_processing(
            session=session, user=user, sample_id=sample_id
        )
        body = {
            "sample_id": sample.id,
            "status": sample.status,
            "job_id": job.id,
            "progress": round(job.progress, 2),
            "progress_url": f"/api/v1/jobs/{job.id}/progress",
        }
    if created:
        launch_job(services.launcher, job.id)
    message = (
        "Voice sample processing started"
        if created
        else (
            "Voice sample is already processed"
            if sample.status == SampleStatus.READY
            else "Voice sample processing is already under way"
        )
    )
    return respond(body, message=message, status_code=202)


@router.post("/{sample_id}/train", status_code=202)
def train_from_sample(
    sample_id: str, user: CurrentUser, services: ServicesDep, data: TrainRequest | None = None
) -> JSONResponse:
    """Train a voice clone from this one (processed) sample."""
    data = data or TrainRequest()
    with session_scope(services.sessions) as session:
        sample = samples.get_sample(session=session, user=user, sample_id=sample_id)
        clone, job = create_clone(
            session=session,
            settings=services.settings,
            user=user,
            data=CloneCreate(
                sample_ids=[sample.id],
                name=(data.name or f"{sample.name} clone")[:255],
                description=data.description,
                config=data.config,
            ),
        )
        body = {
            "training_job_id": job.id,
            "job_id": job.id,
            "clone_id": clone.id,
            "voice_model_id": clone.id,
            "status": job.status,
            "estimated_duration": estimate_s(session=session, job_type=JobType.CLONE_TRAINING),
            "features": {"speaker_similarity_fit": True, "xtts_latents": False},
        }
    launch_job(services.launcher, job.id)
    return respond(body, message="Voice training job created", status_code=202)
