"""Find jobs whose runner died and put them back in the queue (or fail them, with a reason)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from voxify.config import Settings
from voxify.db.models import utcnow
from voxify.db.session import session_scope
from voxify.jobs import repository
from voxify.observability import metrics
from voxify.ports import JobLauncher
from voxify.status import JobStatus

log = logging.getLogger(__name__)


def recover_jobs(
    *,
    session: Session,
    stale_after_s: float,
    max_attempts: int,
    is_runner_alive: Callable[[str], bool],
) -> list[str]:
    """Re-queue or fail every processing job whose runner is gone; returns re-queued ids.

    A runner is gone when its heartbeat is older than ``stale_after_s`` or when the
    ``is_runner_alive`` check (e.g. "is its node still in the cluster") says so.
    """
    stale_before = utcnow() - timedelta(seconds=stale_after_s)
    requeued: list[str] = []
    for job in repository.processing_jobs(session=session):
        stale = job.heartbeat_at is None or job.heartbeat_at < stale_before
        if not stale and job.runner_id and is_runner_alive(job.runner_id):
            continue
        reason = "its runner stopped (service restart or worker failure)"
        if job.attempts >= max_attempts:
            moved = repository.transition(
                session=session,
                job_id=job.id,
                from_statuses=(JobStatus.PROCESSING,),
                owned_by=job.runner_id,
                status=JobStatus.FAILED,
                message="Job failed",
                error_message=f"Interrupted {job.attempts} times: {reason}; giving up",
                completed_at=utcnow(),
            )
        else:
            moved = repository.transition(
                session=session,
                job_id=job.id,
                from_statuses=(JobStatus.PROCESSING,),
                owned_by=job.runner_id,
                status=JobStatus.PENDING,
                progress=0.0,
                runner_id=None,
                heartbeat_at=None,
                message=f"Re-queued: {reason}",
            )
            if moved:
                requeued.append(job.id)
        if moved:
            outcome = "failed" if job.attempts >= max_attempts else "requeued"
            metrics.JOB_RECOVERIES.inc(type=job.type, outcome=outcome)
            log.warning("recovered job %s (attempt %d): %s", job.id, job.attempts, reason)
    return requeued


def sweep(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    launcher: JobLauncher,
    startup: bool,
) -> list[str]:
    """Recover dead runners' jobs and launch them; at startup also launch every pending job."""
    with session_scope(sessions) as session:
        launch = recover_jobs(
            session=session,
            stale_after_s=settings.job_stale_after_s,
            max_attempts=settings.job_max_attempts,
            is_runner_alive=launcher.is_runner_alive,
        )
        if startup:
            launch = sorted(set(launch) | set(repository.pending_job_ids(session=session)))
    for job_id in launch:
        launch_job(launcher, job_id)
    return launch


def launch_job(launcher: JobLauncher, job_id: str) -> None:
    """Start a committed job; if that fails it stays pending and the next sweep launches it."""
    try:
        launcher.launch(job_id)
    except Exception:  # the row, not the launch, is the job: recovery retries from it
        log.exception("could not launch job %s now; it stays pending", job_id)
