"""Every state a job, a voice sample and a voice clone can be in: spelled once, here."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """True once the job can change no more."""
        return self in TERMINAL


TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
UNFINISHED = (JobStatus.PENDING, JobStatus.PROCESSING)


class JobType(StrEnum):
    SYNTHESIS = "synthesis"
    SAMPLE_PROCESSING = "sample_processing"
    CLONE_TRAINING = "clone_training"


class SampleStatus(StrEnum):
    UPLOADED = "uploaded"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class CloneStatus(StrEnum):
    PENDING = "pending"
    TRAINING = "training"
    READY = "ready"
    FAILED = "failed"
    CANCELLED = "cancelled"
