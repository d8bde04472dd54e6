"""How many cores a render gets: all of them when it runs alone, one each when renders overlap."""

from __future__ import annotations

import heapq
import itertools
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")
MAX_AUTO_CORES = 8  # beyond this, more one-thread sessions cost memory for little gain


def narrow_sessions(setting: int | str) -> int:
    """One-thread sessions to keep: a number, or ``"auto"``: one per core this process may use
    (at most MAX_AUTO_CORES); 0 on a single core, where there is nothing to share."""
    if setting != "auto":
        return int(setting)
    cores = len(os.sched_getaffinity(0))
    return min(cores, MAX_AUTO_CORES) if cores > 1 else 0


class CoreScheduler(Generic[T]):
    """Core tokens handed out earliest deadline first (arrival order among equal deadlines).

    A render that finds nothing else running or waiting takes every token and the ``wide``
    engine (one session with a thread per core: the lowest latency for a lone request).
    Otherwise it takes one token and a free ``narrow`` engine (one thread each): overlapping
    renders then share the cores without the threads of one session contending with another's,
    which is the better throughput under load. There are as many tokens as narrow engines; with
    a single one this is a plain earliest-deadline-first lock.

    Deadlines work as in DeadlineLock: a whole render's is its arrival, a streamed piece's the
    moment its listener runs out of audio.
    """

    def __init__(self, wide: T, narrow: Sequence[T]) -> None:
        if not narrow:
            raise ValueError("at least one narrow engine is needed")
        self.wide = wide
        self.cores = len(narrow)
        self._free = list(narrow)  # narrow engines not in use; all of them while wide runs
        self._wide_running = False
        self._running = 0
        self._waiting: list[tuple[float, int]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()

    @contextmanager
    def hold(self, deadline: float) -> Iterator[T]:
        """Block until this caller's turn; yield the engine it renders with."""
        entry = (deadline, next(self._order))
        with self._changed:
            heapq.heappush(self._waiting, entry)
            while not self._grantable(entry):
                self._changed.wait()
            heapq.heappop(self._waiting)
            engine: T
            narrow: T | None = None
            if self._running == 0 and not self._waiting and self.cores > 1:
                self._wide_running = True
                engine = self.wide
            else:
                narrow = self._free.pop()
                engine = narrow
            self._running += 1
            # The next in line may start at once on a token that is still free.
            self._changed.notify_all()
        try:
            yield engine
        finally:
            with self._changed:
                self._running -= 1
                if narrow is None:
                    self._wide_running = False
                else:
                    self._free.append(narrow)
                self._changed.notify_all()

    def busy(self) -> tuple[int, int]:
        """(renders running, renders waiting) right now."""
        with self._changed:
            return self._running, len(self._waiting)

    def _grantable(self, entry: tuple[float, int]) -> bool:
        return self._waiting[0] == entry and not self._wide_running and bool(self._free)
