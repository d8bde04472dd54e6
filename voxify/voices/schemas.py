"""Voice sample and clone request and response shapes (seed 000 Voice Clone Management)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from voxify.db.models import Job, VoiceClone, VoiceSample
from voxify.jobs.schemas import LANGUAGE_PATTERN
from voxify.status import CloneStatus, SampleStatus

SAMPLE_STATUSES = tuple(SampleStatus)
CLONE_STATUSES = tuple(CloneStatus)


class SampleCreate(BaseModel):
    """The form fields of a sample upload (the file travels beside them)."""

    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(None, max_length=2000)
    language: str = Field("en-US", pattern=LANGUAGE_PATTERN, max_length=16)
    transcript: str | None = Field(None, max_length=5000)


class SamplePublic(BaseModel):
    sample_id: str
    name: str
    description: str | None
    status: str
    format: str
    original_filename: str
    duration: float
    language: str
    transcript: str | None
    file_size: int
    sample_rate: int
    channels: int
    quality_score: float | None
    processed_duration: float | None
    validation: dict[str, Any] | None
    job_id: str | None
    progress: float | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    processed_at: datetime | None

    @classmethod
    def of(cls, sample: VoiceSample, job: Job | None = None) -> SamplePublic:
        """The public view of a sample row (with its processing job's progress)."""
        return cls(
            sample_id=sample.id,
            name=sample.name,
            description=sample.description,
            status=sample.status,
            format=sample.format,
            original_filename=sample.original_filename,
            duration=sample.duration,
            language=sample.language,
            transcript=sample.transcript,
            file_size=sample.file_size,
            sample_rate=sample.original_sample_rate,
            channels=sample.channels,
            quality_score=sample.quality_score,
            processed_duration=sample.processed_duration,
            validation=sample.report,
            job_id=sample.job_id,
            progress=None if job is None else round(job.progress, 2),
            error_message=sample.error_message,
            created_at=sample.created_at,
            updated_at=sample.updated_at,
            processed_at=sample.processed_at,
        )


class VoiceCreate(BaseModel):
    """A Kokoro blend saved as a custom voice."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    blend: str = Field(
        min_length=1,
        max_length=200,
        description="Kokoro voices and weights, e.g. af_bella(2)+af_sky(1)",
        examples=["af_bella(2)+af_sky(1)"],
    )
    description: str | None = Field(None, max_length=2000)


class CloneCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample_ids: list[str] = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(None, max_length=2000)
    language: str | None = Field(None, pattern=LANGUAGE_PATTERN, max_length=16)
    config: dict[str, Any] = Field(default_factory=dict)


class TrainRequest(BaseModel):
    """POST /voice/samples/{id}/train (seeds 000 and 001): optional name and training config."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=2000)
    config: dict[str, Any] = Field(default_factory=dict)


class ClonePublic(BaseModel):
    clone_id: str
    voice_model_id: str
    name: str
    description: str | None
    language: str
    status: str
    progress: float | None
    job_id: str | None
    sample_ids: list[str]
    engine: str
    speaker_similarity: float | None
    baseline_similarity: float | None
    is_selected: bool
    config: dict[str, Any]
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    trained_at: datetime | None

    @classmethod
    def of(cls, clone: VoiceClone, *, job: Job | None, selected_id: str | None) -> ClonePublic:
        """The public view of a clone row (with its training job's progress)."""
        return cls(
            clone_id=clone.id,
            voice_model_id=clone.id,
            name=clone.name,
            description=clone.description,
            language=clone.language,
            status=clone.status,
            progress=None if job is None else round(job.progress, 2),
            job_id=clone.job_id,
            sample_ids=list(clone.sample_ids),
            engine=clone.engine,
            speaker_similarity=_round(clone.similarity),
            baseline_similarity=_round(clone.baseline_similarity),
            is_selected=selected_id == clone.id,
            config=clone.config or {},
            error_message=clone.error_message,
            created_at=clone.created_at,
            updated_at=clone.updated_at,
            trained_at=clone.trained_at,
        )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
