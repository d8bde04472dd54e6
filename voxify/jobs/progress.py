"""Job progress for live listeners: one watcher per job and process, however many listen.

One poller per process reads the rows of every watched job in a single query a few times a
second, while anyone listens, and hands each change to every listener of that job; listeners
only wait on their queue. So 64 browsers following four jobs cost one small query per poll,
not 64 (nor 4), and no thread is held while they wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from voxify.db.models import Job
from voxify.db.session import session_scope
from voxify.jobs import repository
from voxify.status import TERMINAL, JobStatus

POLL_S = 0.25
KEEPALIVE_S = 15.0
Event = dict[str, Any]


@dataclass
class _Watcher:
    listeners: set[asyncio.Queue[Event]] = field(default_factory=set)
    last: Event | None = None


class ProgressHub:
    """Fans each job's progress out to its listeners in this process."""

    def __init__(self, sessions: sessionmaker[Session], *, poll_s: float = POLL_S) -> None:
        self._sessions = sessions
        self._poll_s = poll_s
        self._watchers: dict[str, _Watcher] = {}
        self._poller: asyncio.Task[None] | None = None
        self.reads = 0  # database queries made by the poller (tests compare it to listeners)

    async def listen(
        self, job_id: str, *, keepalive_s: float = KEEPALIVE_S
    ) -> AsyncIterator[Event | None]:
        """The job's state now and at each change until it ends; None when ``keepalive_s``
        passed without a change. The caller has checked that the listener may see the job."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        watcher = self._watchers.get(job_id)
        if watcher is None:
            watcher = self._watchers[job_id] = _Watcher()
        elif watcher.last is not None:
            queue.put_nowait(watcher.last)
        watcher.listeners.add(queue)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(self._poll())
        try:
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=keepalive_s)
                except TimeoutError:
                    yield None
                    continue
                yield event
                if event["status"] in TERMINAL:
                    return
        finally:
            watcher.listeners.discard(queue)
            if not watcher.listeners and self._watchers.get(job_id) is watcher:
                del self._watchers[job_id]  # the poller stops when nothing is watched

    def watching(self) -> int:
        """Jobs watched now."""
        return len(self._watchers)

    async def _poll(self) -> None:
        """Read every watched job at once, hand on what changed; end when none is watched."""
        while self._watchers:
            events = await asyncio.to_thread(self._read, list(self._watchers))
            for job_id, event in events.items():
                watcher = self._watchers.get(job_id)
                if watcher is None or event == watcher.last:
                    continue
                watcher.last = event
                for queue in watcher.listeners:
                    queue.put_nowait(event)
                if event["status"] in TERMINAL:  # listeners leave; nothing more to read
                    del self._watchers[job_id]
            await asyncio.sleep(self._poll_s)

    def _read(self, job_ids: list[str]) -> dict[str, Event]:
        self.reads += 1
        with session_scope(self._sessions) as session:
            jobs = {job.id: job for job in repository.get_jobs_any_owner(session, job_ids)}
            return {job_id: _event(job_id, jobs.get(job_id)) for job_id in job_ids}


def _event(job_id: str, job: Job | None) -> Event:
    """What listeners of a job are told about its row (a deleted job has ended)."""
    if job is None:
        return {
            "job_id": job_id,
            "progress": 0.0,
            "status": JobStatus.CANCELLED,
            "message": "The job was deleted",
        }
    event: Event = {
        "job_id": job.id,
        "progress": round(job.progress, 1),
        "status": job.status,
        "message": job.message,
    }
    if job.status == JobStatus.COMPLETED:
        event.update(output_file_path=job.output_file_path, duration=job.duration)
    if job.status == JobStatus.FAILED:
        event["error_message"] = job.error_message
    return event
