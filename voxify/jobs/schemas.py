"""Job request and response shapes (seed 000 Job Management, seed 001 Jobs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from voxify.db.models import Job
from voxify.status import JobStatus

# Kept equal to voxify.audio.encode.FORMATS (a test checks it): the schema lists them.
OutputFormat = Literal["wav", "flac", "ogg", "mp3", "opus", "aac", "pcm", "ulaw", "alaw"]
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


class SynthesisOptions(BaseModel):
    """Rendering parameters shared by jobs and the /tts endpoints."""

    model_config = ConfigDict(extra="forbid")

    output_format: OutputFormat = "wav"
    sample_rate: int | None = Field(
        None,
        ge=8000,
        le=48000,
        description="Default: the voice's own rate, or the nearest the format carries "
        "(opus 24 or 48 kHz, ulaw/alaw 8 kHz)",
    )
    speed: float = Field(1.0, ge=0.5, le=2.0)
    pitch: float = Field(1.0, ge=0.5, le=2.0)
    volume: float = Field(1.0, ge=0.0, le=2.0)


class JobCreate(SynthesisOptions):
    text_content: str = Field(min_length=1, max_length=200_000)
    voice_model_id: str | None = Field(None, min_length=1, max_length=200)
    # None: the voice's own language
    text_language: str | None = Field(None, pattern=LANGUAGE_PATTERN, max_length=16)
    config: dict[str, Any] = Field(default_factory=dict)


class JobUpdate(BaseModel):
    """PUT: replace the configurable fields of a pending job (omitted ones keep their value)."""

    model_config = ConfigDict(extra="forbid")

    text_content: str | None = Field(None, min_length=1, max_length=200_000)
    voice_model_id: str | None = Field(None, min_length=1, max_length=200)
    text_language: str | None = Field(None, pattern=LANGUAGE_PATTERN, max_length=16)
    output_format: OutputFormat | None = None
    sample_rate: int | None = Field(None, ge=8000, le=48000)
    speed: float | None = Field(None, ge=0.5, le=2.0)
    pitch: float | None = Field(None, ge=0.5, le=2.0)
    volume: float | None = Field(None, ge=0.0, le=2.0)
    config: dict[str, Any] | None = None


class JobPatch(JobUpdate):
    """PATCH: a partial update; owners may also cancel, admins may also set run fields."""

    status: JobStatus | None = None
    progress: float | None = Field(None, ge=0.0, le=100.0)
    error_message: str | None = Field(None, max_length=2000)
    output_file_path: str | None = Field(None, max_length=255)
    duration: float | None = Field(None, ge=0.0)


class JobPublic(BaseModel):
    id: str
    job_id: str
    user_id: str
    type: str
    title: str | None
    subject_id: str | None  # the voice sample or clone a processing/training job works on
    voice_model_id: str | None
    text_content: str | None
    text_hash: str | None
    text_language: str
    text_length: int
    word_count: int
    status: str
    progress: float
    message: str | None
    config: dict[str, Any]
    output_format: str
    sample_rate: int
    speed: float
    pitch: float
    volume: float
    output_file_id: str | None
    output_file_path: str | None
    duration: float | None
    error_message: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None

    @classmethod
    def of(cls, job: Job, *, include_text: bool = True) -> JobPublic:
        """The public view of a job row."""
        return cls(
            id=job.id,
            job_id=job.id,
            user_id=job.user_id,
            type=job.type,
            title=job.title,
            subject_id=job.subject_id,
            voice_model_id=job.voice_model_id,
            text_content=job.text_content if include_text else None,
            text_hash=job.text_hash,
            text_language=job.text_language,
            text_length=job.text_length,
            word_count=job.word_count,
            status=job.status,
            progress=round(job.progress, 2),
            message=job.message,
            config=job.config or {},
            output_format=job.output_format,
            sample_rate=job.sample_rate,
            speed=job.speed,
            pitch=job.pitch,
            volume=job.volume,
            output_file_id=job.output_file_id,
            output_file_path=job.output_file_path,
            duration=job.duration,
            error_message=job.error_message,
            attempts=job.attempts,
            created_at=job.created_at,
            updated_at=job.updated_at,
            started_at=job.started_at,
            completed_at=job.completed_at,
        )
