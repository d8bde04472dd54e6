"""Run one synthesis job by id: claim the row, synthesize chunk by chunk, store, finish."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from voxify.db.models import Job, utcnow
from voxify.db.session import session_scope
from voxify.engines.base import Audio
from voxify.engines.render import SynthesisRequest
from voxify.errors import Unavailable
from voxify.files import repository as files_repository
from voxify.files.service import discard, download_path, write_audio
from voxify.jobs import repository
from voxify.storage import BlobStore
from voxify.text import split_chunks

log = logging.getLogger(__name__)

Synthesize = Callable[[SynthesisRequest], Audio]
CHUNK_PAUSE_S = 0.15
BUSY_RETRY_S = 30.0  # how long a background job waits out an overloaded synthesizer pool


@dataclass(frozen=True)
class JobRunner:
    """Everything a runner needs; built on whichever process executes the job."""

    sessions: sessionmaker[Session]
    blobs: BlobStore
    synthesize: Synthesize
    heartbeat_s: float = 2.0
    chunk_chars: int = 400

    def run(self, job_id: str, runner_id: str) -> str:
        """Run the job if it is still pending; returns the status it ended in."""
        with session_scope(self.sessions) as session:
            claimed = repository.transition(
                session=session, job_id=job_id, from_statuses=("pending",),
                status="processing", runner_id=runner_id, attempts=Job.attempts + 1,
                started_at=utcnow(), heartbeat_at=utcnow(), progress=5.0,
                message="Job started", error_message=None,
            )
            job = repository.get_job_any_owner(session=session, job_id=job_id)
        if job is None or not claimed:
            return job.status if job else "missing"
        try:
            with self._heartbeat(job_id, runner_id):
                audio = self._synthesize(job, runner_id)
            if audio is None:
                return self._status(job_id)
            return self._finish(job, runner_id, audio)
        except Exception as exc:  # a job's failure is data for its owner, not a crash
            log.exception("job %s failed", job_id)
            self._update(job_id, runner_id, status="failed", message="Synthesis failed",
                         error_message=f"{type(exc).__name__}: {exc}"[:2000],
                         completed_at=utcnow())
            return "failed"

    def _synthesize(self, job: Job, runner_id: str) -> Audio | None:
        chunks = split_chunks(job.text_content, max_chars=self.chunk_chars)
        if not self._update(job.id, runner_id, progress=10.0,
                            message="Text preprocessing completed"):
            return None
        pieces: list[Audio] = []
        for index, chunk in enumerate(chunks):
            request = SynthesisRequest(
                text=chunk, voice_id=job.voice_model_id, language=job.text_language,
                speed=job.speed, pitch=job.pitch, volume=job.volume,
                sample_rate=job.sample_rate,
            )
            pieces.append(self._with_retry(request))
            progress = 10.0 + 80.0 * (index + 1) / len(chunks)
            message = f"Audio synthesis in progress ({index + 1}/{len(chunks)} chunks)"
            if not self._update(job.id, runner_id, progress=progress, message=message):
                return None  # cancelled, or recovered by someone else: stop working
        return _join(pieces)

    def _with_retry(self, request: SynthesisRequest) -> Audio:
        deadline = time.monotonic() + BUSY_RETRY_S
        delay = 0.25
        while True:
            try:
                return self.synthesize(request)
            except Unavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 4.0)

    def _finish(self, job: Job, runner_id: str, audio: Audio) -> str:
        file = write_audio(blobs=self.blobs, owner_id=job.user_id, audio=audio,
                           fmt=job.output_format)
        file.job_id = job.id
        try:
            with session_scope(self.sessions) as session:
                files_repository.add_file(session=session, file=file)
                done = repository.transition(
                    session=session, job_id=job.id, from_statuses=("processing",),
                    owned_by=runner_id, status="completed", progress=100.0,
                    message="Synthesis completed", output_file_id=file.id,
                    output_file_path=download_path(file.id), duration=file.duration,
                    completed_at=utcnow(),
                )
                if not done:
                    raise _Superseded()
        except _Superseded:
            discard(blobs=self.blobs, file=file)
            return self._status(job.id)
        except Exception:
            discard(blobs=self.blobs, file=file)
            raise
        return "completed"

    def _update(self, job_id: str, runner_id: str, **values: object) -> bool:
        with session_scope(self.sessions) as session:
            return repository.transition(
                session=session, job_id=job_id, from_statuses=("processing",),
                owned_by=runner_id, heartbeat_at=utcnow(), **values,
            )

    def _status(self, job_id: str) -> str:
        with session_scope(self.sessions) as session:
            job = repository.get_job_any_owner(session=session, job_id=job_id)
            return job.status if job else "missing"

    @contextmanager
    def _heartbeat(self, job_id: str, runner_id: str) -> Iterator[None]:
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.heartbeat_s):
                try:
                    if not self._update(job_id, runner_id):
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


class _Superseded(Exception):
    """The job left 'processing' under this runner (cancelled or recovered) before it finished."""


def _join(pieces: list[Audio]) -> Audio:
    rate = pieces[0].sample_rate
    pause = np.zeros(int(CHUNK_PAUSE_S * rate), dtype=np.float32)
    parts: list[np.ndarray] = []
    for index, piece in enumerate(pieces):
        if index:
            parts.append(pause)
        parts.append(piece.samples.astype(np.float32, copy=False))
    return Audio(samples=np.concatenate(parts), sample_rate=rate)
