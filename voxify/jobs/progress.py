"""Job progress for live listeners: one watcher per job and process, however many listen.

The watcher reads the job row a few times a second while anyone listens and hands each change
to every listener's queue; listeners only wait on their queue. So 64 browsers following one
job cost one small query per poll, not 64, and no thread is held while they wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

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
    task: asyncio.Task[None] | None = None


class ProgressHub:
    """Fans each job's progress out to its listeners in this process."""

    def __init__(self, sessions: sessionmaker[Session], *, poll_s: float = POLL_S) -> None:
        self._sessions = sessions
        self._poll_s = poll_s
        self._watchers: dict[str, _Watcher] = {}
        self.reads = 0  # database reads made by all watchers (tests compare it to listeners)

    async def listen(
        self, job_id: str, *, keepalive_s: float = KEEPALIVE_S
    ) -> AsyncIterator[Event | None]:
        """The job's state now and at each change until it ends; None when ``keepalive_s``
        passed without a change. The caller has checked that the listener may see the job."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        watcher = self._watchers.get(job_id)
        if watcher is None:
            watcher = self._watchers[job_id] = _Watcher()
            watcher.task = asyncio.get_running_loop().create_task(self._watch(job_id, watcher))
        elif watcher.last is not None:
            queue.put_nowait(watcher.last)
        watcher.listeners.add(queue)
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
                del self._watchers[job_id]
                if watcher.task is not None:
                    watcher.task.cancel()

    def watching(self) -> int:
        """Jobs watched now."""
        return len(self._watchers)

    async def _watch(self, job_id: str, watcher: _Watcher) -> None:
        with suppress(asyncio.CancelledError):
            while True:
                event = await asyncio.to_thread(self._read, job_id)
                if event != watcher.last:
                    watcher.last = event
                    for queue in watcher.listeners:
                        queue.put_nowait(event)
                if event["status"] in TERMINAL:
                    return
                await asyncio.sleep(self._poll_s)

    def _read(self, job_id: str) -> Event:
        self.reads += 1
        with session_scope(self._sessions) as session:
            job = repository.get_job_any_owner(session=session, job_id=job_id)
            if job is None:  # deleted while watched: its listeners are done
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
