"""Run one background job by id: claim the row, heartbeat, hand it to its type's handler."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from voxify.db.models import Job, utcnow
from voxify.db.session import session_scope
from voxify.errors import VoxifyError
from voxify.jobs import repository
from voxify.observability import metrics
from voxify.observability.context import request_context
from voxify.ports import Synthesis, Voiceprints
from voxify.status import JobStatus, JobType
from voxify.storage import BlobStore
from voxify.voices.catalogue import VoiceCatalogue

log = logging.getLogger(__name__)

FAILED_MESSAGES: dict[str, str] = {
    JobType.SYNTHESIS: "Synthesis failed",
    JobType.SAMPLE_PROCESSING: "Sample processing failed",
    JobType.CLONE_TRAINING: "Voice clone training failed",
}


class JobStopped(Exception):
    """The job left 'processing' under this runner (cancelled or recovered): stop quietly."""


@dataclass(frozen=True)
class JobRunner:
    """Everything a runner needs; built on whichever process executes the job."""

    sessions: sessionmaker[Session]
    blobs: BlobStore
    synthesis: Synthesis
    catalogue: VoiceCatalogue
    handlers: Mapping[str, Handler]
    voiceprints: Voiceprints | None = None
    heartbeat_s: float = 2.0
    clone_search_s: float = 45.0  # a clone's Kokoro style search, unless its config says

    def run(self, job_id: str, runner_id: str) -> str:
        """Run the job if it is still pending; returns the status it ended in."""
        with session_scope(self.sessions) as session:
            claimed = repository.transition(
                session=session,
                job_id=job_id,
                from_statuses=(JobStatus.PENDING,),
                status=JobStatus.PROCESSING,
                runner_id=runner_id,
                attempts=Job.attempts + 1,
                started_at=utcnow(),
                heartbeat_at=utcnow(),
                progress=5.0,
                message="Job started",
                error_message=None,
            )
            job = repository.get_job_any_owner(session=session, job_id=job_id)
            if job is not None:
                session.expunge(job)
        if job is None or not claimed:
            return job.status if job else "missing"
        with request_context(job.request_id):
            _measure_claim(job)
            return self._run(job, runner_id)

    def _run(self, job: Job, runner_id: str) -> str:
        job_id = job.id
        context = JobContext(runner=self, job_id=job_id, runner_id=runner_id)
        try:
            with self._heartbeat(job_id, runner_id):
                self.handlers[job.type](context, job)
        except JobStopped:
            pass
        except Exception as exc:  # a job's failure is data for its owner, not a crash
            log.exception("job %s failed", job_id)
            reason = str(exc) if isinstance(exc, VoxifyError) else f"{type(exc).__name__}: {exc}"
            context.update(
                status=JobStatus.FAILED,
                message=FAILED_MESSAGES.get(job.type, "Job failed"),
                error_message=reason[:2000],
                completed_at=utcnow(),
            )
        return self.status(job_id)

    def status(self, job_id: str) -> str:
        """The job's status as the database has it now."""
        with session_scope(self.sessions) as session:
            job = repository.get_job_any_owner(session=session, job_id=job_id)
            return job.status if job else "missing"

    @contextmanager
    def _heartbeat(self, job_id: str, runner_id: str) -> Iterator[None]:
        stop = threading.Event()
        context = JobContext(runner=self, job_id=job_id, runner_id=runner_id)

        def beat() -> None:
            while not stop.wait(self.heartbeat_s):
                try:
                    if not context.update():
                        return
                except Exception:  # a missed beat is retried; recovery tolerates a few
                    log.warning("heartbeat for %s failed", job_id, exc_info=True)

        thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)


@dataclass(frozen=True)
class JobContext:
    """What a handler uses to report progress and to finish its job atomically."""

    runner: JobRunner
    job_id: str
    runner_id: str

    def update(self, **values: object) -> bool:
        """Write to the row while this runner still owns it; False once it does not."""
        with session_scope(self.runner.sessions) as session:
            return repository.transition(
                session=session,
                job_id=self.job_id,
                from_statuses=(JobStatus.PROCESSING,),
                owned_by=self.runner_id,
                heartbeat_at=utcnow(),
                **values,
            )

    def progress(self, percent: float, message: str) -> None:
        """Record progress; raises JobStopped when the job was cancelled or taken over."""
        if not self.update(progress=round(percent, 2), message=message):
            raise JobStopped()

    def complete(self, message: str, apply: Callable[[Session], None], **values: object) -> None:
        """Run ``apply`` and mark the job completed in one transaction, or raise JobStopped.

        ``apply`` writes the job's results (file rows, sample or clone fields); they land only
        together with the completed status.
        """
        with session_scope(self.runner.sessions) as session:
            apply(session)
            done = repository.transition(
                session=session,
                job_id=self.job_id,
                from_statuses=(JobStatus.PROCESSING,),
                owned_by=self.runner_id,
                status=JobStatus.COMPLETED,
                progress=100.0,
                message=message,
                completed_at=utcnow(),
                **values,
            )
            if not done:
                session.rollback()
                raise JobStopped()


Handler = Callable[[JobContext, Job], None]


def _measure_claim(job: Job) -> None:
    """Queue wait of a first attempt; a later attempt is a retry."""
    if job.attempts > 1:
        metrics.JOB_RETRIES.inc(type=job.type)
    elif job.started_at is not None:
        wait = (job.started_at - job.created_at).total_seconds()
        metrics.JOB_QUEUE_WAIT.observe(max(0.0, wait), type=job.type)
