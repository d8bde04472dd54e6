"""Blocking iterators consumed from asyncio without blocking the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
# Closing an abandoned iterator waits for its running step; that wait never blocks a caller.
_CLOSER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="voxify-close")


async def iterate_in_thread(iterator: Iterator[T]) -> AsyncGenerator[T, None]:
    """Each ``next`` in a worker thread; leaving early (break, cancel) closes the iterator.

    A generator cannot be closed while a step runs, so a step in flight when the consumer
    leaves is left to finish, and the iterator is closed right after it: the work stops at
    the next step boundary, never half-way through one.
    """
    loop = asyncio.get_running_loop()
    step: Future[object] | None = None
    try:
        while True:
            step = _submit(loop, iterator)
            item = await asyncio.wrap_future(step)
            step = None
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
    finally:
        _CLOSER.submit(_close_after, step, iterator)


def _submit(loop: asyncio.AbstractEventLoop, iterator: Iterator[T]) -> Future[object]:
    future: Future[object] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(next(iterator, _DONE))
        except BaseException as exc:  # delivered to the awaiting coroutine
            future.set_exception(exc)

    loop.run_in_executor(None, run)
    return future


def _close_after(step: Future[object] | None, iterator: Iterator[T]) -> None:
    if step is not None:
        with suppress(BaseException):  # the consumer has gone; the step's outcome has no reader
            step.result()
    close = getattr(iterator, "close", None)
    if close is not None:
        close()
