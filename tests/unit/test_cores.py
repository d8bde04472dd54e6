"""CoreScheduler: a lone render takes every core, overlapping ones take one core each."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from voxify.engines.cores import CoreScheduler
from voxify.engines.piper import PiperEngine
from voxify.engines.pool import EngineSet
from voxify.engines.render import SynthesisRequest

GUARD_S = 30.0  # only a hang trips this: every wait below ends on a state change


def wait_until(condition: Callable[[], bool]) -> None:
    """Poll until ``condition`` holds (a state change, not a time, ends the wait)."""
    deadline = time.monotonic() + GUARD_S
    while not condition():
        assert time.monotonic() < deadline, "scheduler never reached the expected state"
        time.sleep(0.001)


class Render:
    """A render on its own thread that holds its engine until released."""

    def __init__(self, cores: CoreScheduler[str], deadline: float) -> None:
        self.engine: str | None = None
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(cores, deadline), daemon=True)
        self._thread.start()

    def _run(self, cores: CoreScheduler[str], deadline: float) -> None:
        with cores.hold(deadline) as engine:
            self.engine = engine
            self._release.wait(GUARD_S)

    def finish(self) -> None:
        self._release.set()
        self._thread.join(GUARD_S)
        assert not self._thread.is_alive()


@contextmanager
def held(cores: CoreScheduler[str], deadline: float = 0.0) -> Iterator[str]:
    with cores.hold(deadline) as engine:
        yield engine


def test_a_lone_render_takes_the_wide_engine() -> None:
    cores = CoreScheduler("wide", ["narrow-1", "narrow-2"])
    with held(cores) as engine:
        assert engine == "wide"
        assert cores.busy() == (1, 0)
    with held(cores) as engine:  # alone again: wide again
        assert engine == "wide"
    assert cores.busy() == (0, 0)


def test_overlapping_renders_take_one_narrow_engine_each() -> None:
    cores = CoreScheduler("wide", ["narrow-1", "narrow-2"])
    first = Render(cores, 0.0)
    wait_until(lambda: first.engine is not None)
    assert first.engine == "wide"
    # While the wide render holds every core, the others wait...
    second, third = Render(cores, 1.0), Render(cores, 2.0)
    wait_until(lambda: cores.busy() == (1, 2))
    assert second.engine is None and third.engine is None
    first.finish()
    # ...then run side by side, one core each.
    wait_until(lambda: second.engine is not None and third.engine is not None)
    assert {second.engine, third.engine} == {"narrow-1", "narrow-2"}
    assert cores.busy() == (2, 0)
    # A fourth finds no free core: it waits, then takes the one the second gives back.
    fourth = Render(cores, 3.0)
    wait_until(lambda: cores.busy() == (2, 1))
    assert fourth.engine is None
    second.finish()
    wait_until(lambda: fourth.engine is not None)
    assert fourth.engine == second.engine
    third.finish()
    fourth.finish()
    assert cores.busy() == (0, 0)


def test_one_core_is_an_earliest_deadline_first_lock() -> None:
    cores = CoreScheduler("wide", ["only"])
    order: list[str] = []
    with held(cores) as engine:
        assert engine == "only"  # with one core the wide engine is never used

        def take(name: str, deadline: float) -> None:
            with cores.hold(deadline):
                order.append(name)

        threads: list[threading.Thread] = []
        for name, deadline in (("later", 5.0), ("sooner", 1.0), ("latest", 9.0)):
            threads.append(threading.Thread(target=take, args=(name, deadline)))
            threads[-1].start()
            queued = len(threads)
            wait_until(lambda: cores.busy() == (1, queued))  # noqa: B023 (called at once)
    for thread in threads:
        thread.join(GUARD_S)
    assert order == ["sooner", "later", "latest"]


def test_a_render_that_fails_gives_its_core_back() -> None:
    cores = CoreScheduler("wide", ["narrow-1", "narrow-2"])
    with pytest.raises(RuntimeError), cores.hold(0.0):
        raise RuntimeError("engine failed")
    assert cores.busy() == (0, 0)
    with held(cores) as engine:
        assert engine == "wide"


def test_no_narrow_engine_is_an_error() -> None:
    with pytest.raises(ValueError):
        CoreScheduler("wide", [])


def test_engine_set_renders_overlapping_requests_on_one_thread_twins(piper: PiperEngine) -> None:
    twins = [piper.with_threads(1), piper.with_threads(1)]
    engines = EngineSet(piper, piper_narrow=twins)
    texts = ["The first of two requests.", "The second one, a little longer than the first."]
    results: dict[str, float] = {}

    def render(text: str) -> None:
        results[text] = engines.render(SynthesisRequest(text=text)).duration

    threads = [threading.Thread(target=render, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD_S)
    assert set(results) == set(texts)
    assert 0.5 < results[texts[0]] < results[texts[1]]
    # A twin is the same voice: same rate, and speech of the same length give or take noise.
    alone = twins[0].synthesize(texts[1])
    assert alone.sample_rate == piper.sample_rate
    assert abs(alone.duration - results[texts[1]]) < 0.25 * results[texts[1]]
