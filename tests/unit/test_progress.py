"""Job progress over SSE: one watcher per job however many listen, and syntheses unslowed."""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.unit.conftest import PASSWORD, serve_over_loopback
from voxify.api.context import Services

LISTENERS = 64
JOBS = 4
BLOCKS = 8  # with and without listeners, taking turns
PER_BLOCK = 3
SETTLE_S = 0.3  # after a block's set-up (64 connections opening), before its syntheses
TEXT = "The old lighthouse keeper climbed the spiral stairs every evening to light the lamp."


@pytest.fixture
def served(make_services: Callable[..., Services]) -> Iterator[tuple[str, Services]]:
    """The app on a real HTTP server in this process (jobs held pending, so they stay live)."""
    services = make_services(run_jobs=False)
    with serve_over_loopback(services) as url:
        yield url, services


def _headers(url: str) -> dict[str, str]:
    with httpx.Client(base_url=url, timeout=30) as http:
        http.post(
            "/api/v1/auth/register",
            json={
                "email": "watch@example.com",
                "password": PASSWORD,
                "first_name": "W",
                "last_name": "L",
            },
        )
        token = http.post(
            "/api/v1/auth/login", json={"email": "watch@example.com", "password": PASSWORD}
        )
        return {"Authorization": f"Bearer {token.json()['data']['access_token']}"}


async def _listen(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    job_id: str,
    first: asyncio.Event,
    seen: list[dict[str, Any]],
) -> None:
    async with http.stream("GET", f"/api/v1/jobs/{job_id}/progress", headers=headers) as resp:
        assert resp.status_code == 200
        async for line in resp.aiter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
                first.set()


async def _settle() -> None:
    """The same start for both kinds of block: no garbage from the set-up, a moment's calm."""
    gc.collect()
    await asyncio.sleep(SETTLE_S)


async def _synthesize_times(
    http: httpx.AsyncClient, headers: dict[str, str], n: int
) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = await http.post("/api/v1/tts/synthesize", headers=headers, json={"text": TEXT})
        assert response.status_code == 200, response.text
        times.append(time.perf_counter() - started)
    return times


def test_64_listeners_share_one_watcher_per_job_and_do_not_slow_syntheses(
    served: tuple[str, Services],
) -> None:
    url, services = served
    headers = _headers(url)

    async def run() -> tuple[list[float], list[float], int, float, list[list[dict[str, Any]]]]:
        limits = httpx.Limits(max_connections=LISTENERS + 8)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
            jobs = [
                (
                    await http.post(
                        "/api/v1/job", headers=headers, json={"text_content": f"Job number {i}."}
                    )
                ).json()["data"]["id"]
                for i in range(JOBS)
            ]
            await _synthesize_times(http, headers, 2)  # warm up
            alone: list[float] = []
            watched: list[float] = []
            seen: list[list[dict[str, Any]]] = []
            reads_per_s = 0.0
            for _ in range(BLOCKS):  # blocks taking turns, so drift in load hits both alike
                await _settle()
                alone += await _synthesize_times(http, headers, PER_BLOCK)
                firsts = [asyncio.Event() for _ in range(LISTENERS)]
                seen = [[] for _ in range(LISTENERS)]
                tasks = [
                    asyncio.create_task(_listen(http, headers, jobs[i % JOBS], firsts[i], seen[i]))
                    for i in range(LISTENERS)
                ]
                await asyncio.wait_for(asyncio.gather(*(e.wait() for e in firsts)), 60)
                watching = services.progress.watching()
                await _settle()
                reads, since = services.progress.reads, time.monotonic()
                watched += await _synthesize_times(http, headers, PER_BLOCK)
                reads_per_s = (services.progress.reads - reads) / (time.monotonic() - since)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                assert watching == JOBS
            return alone, watched, watching, reads_per_s, seen

    alone, watched, _, reads_per_s, seen = asyncio.run(run())
    assert all(events and events[0]["status"] == "pending" for events in seen)
    # One watcher per job reads its row POLL_S apart: JOBS x 4 reads a second, not LISTENERS x 4.
    assert reads_per_s <= JOBS / services.progress._poll_s * 1.5, reads_per_s
    slowdown = statistics.median(watched) / statistics.median(alone)
    # 20 runs on a quiet 2-core machine: 0.898-1.090, median 0.99 (one watcher task and query
    # per job, no settling: 0.877-1.103, median 1.04).
    assert slowdown <= 1.10, (slowdown, alone, watched)
    deadline = time.monotonic() + 10  # listeners gone: their watchers stop
    while services.progress.watching() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert services.progress.watching() == 0
