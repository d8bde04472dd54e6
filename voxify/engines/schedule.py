"""Who renders next on a busy engine: the piece whose listener will run out of audio first."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class DeadlineLock:
    """A lock granted earliest deadline first (in arrival order among equal deadlines).

    A whole render's deadline is its arrival; a streamed piece's is the moment its listener
    would reach the end of the audio already sent. So a new stream's first piece goes before
    pieces that are only needed seconds from now, and streams that are ahead of playback wait.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._held = False
        self._waiting: list[tuple[float, int]] = []
        self._order = itertools.count()

    @contextmanager
    def hold(self, deadline: float) -> Iterator[None]:
        """Block until this caller has the earliest deadline and the lock is free."""
        entry = (deadline, next(self._order))
        with self._changed:
            heapq.heappush(self._waiting, entry)
            while self._held or self._waiting[0] != entry:
                self._changed.wait()
            heapq.heappop(self._waiting)
            self._held = True
        try:
            yield
        finally:
            with self._changed:
                self._held = False
                self._changed.notify_all()
