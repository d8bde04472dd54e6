"""How long a new job will take, learnt from this deployment's own finished jobs."""

from __future__ import annotations

from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from voxify.db.models import Job
from voxify.status import JobStatus, JobType

HISTORY = 20  # recent completed jobs of the same type the estimate looks at
# Before any job of a type has completed here: a deliberately modest guess, replaced by
# this machine's own figures after the first job.
FIRST_GUESS_S = {
    JobType.SYNTHESIS: 0.1,
    JobType.SAMPLE_PROCESSING: 5.0,
    JobType.CLONE_TRAINING: 30.0,
}  # synthesis: seconds per word


def estimate_s(*, session: Session, job_type: JobType, words: int = 0) -> int:
    """Seconds until a new job of ``job_type`` completes (synthesis: of ``words`` words)."""
    recent = session.execute(
        select(Job.started_at, Job.completed_at, Job.word_count)
        .where(
            Job.type == job_type,
            Job.status == JobStatus.COMPLETED,
            Job.started_at.is_not(None),
            Job.completed_at.is_not(None),
        )
        .order_by(Job.completed_at.desc())
        .limit(HISTORY)
    ).all()
    spans = [
        ((row.completed_at - row.started_at).total_seconds(), row.word_count) for row in recent
    ]
    if job_type == JobType.SYNTHESIS:
        per_word = [s / w for s, w in spans if w > 0]
        rate = median(per_word) if per_word else FIRST_GUESS_S[job_type]
        return max(1, round(rate * words))
    return max(1, round(median(s for s, _ in spans) if spans else FIRST_GUESS_S[job_type]))
