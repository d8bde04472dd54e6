"""Streaming over real HTTP on Ray Serve: first audio early, and a client that leaves stops work."""

from __future__ import annotations

import json
import time

import httpx

from tests.integration.conftest import PASSWORD, login
from voxify.client import Client

SENTENCE = "This sentence is one of many in a long text that nobody will listen to the end of."


def synthesizer_stats() -> dict[str, int]:
    from ray import serve

    handle = serve.get_deployment_handle("Synthesizer", app_name="voxify")
    stats: dict[str, int] = handle.stats.remote().result(timeout_s=30)
    return stats


def test_sse_stream_over_ray(http: httpx.Client) -> None:
    headers = login(http, "sse-ray@example.com")
    text = "Hello there, this is streaming. Each sentence arrives on its own. The end."
    with http.stream(
        "GET", "/api/v1/tts/synthesize/stream", headers=headers, params={"text": text}
    ) as response:
        assert response.status_code == 200
        events = [
            json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")
        ]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "job_info" and kinds[-1] == "completed", kinds
    assert kinds.count("audio_chunk") >= 3
    assert http.get(events[-1]["audio_path"], headers=headers).status_code == 200


def test_raw_stream_starts_early_and_closing_stops_the_replica(serve_url: str) -> None:
    voxify = Client(serve_url)
    voxify.register("raw-ray@example.com", PASSWORD, "Raw", "Stream")
    voxify.login("raw-ray@example.com", PASSWORD)
    text = " ".join([SENTENCE] * 60)  # ~5 minutes of speech, ~20 s of work
    before = synthesizer_stats()
    started = time.perf_counter()
    pieces = voxify.stream(text, format="wav")
    first = next(pieces)
    first_audio_s = time.perf_counter() - started
    pieces.close()  # the client leaves after the first piece: the connection closes
    voxify.close()
    assert len(first) >= 44 and first_audio_s < 5
    deadline = time.monotonic() + 20
    while synthesizer_stats().get("streams_stopped", 0) <= before.get("streams_stopped", 0):
        assert time.monotonic() < deadline, "the replica kept rendering for a departed client"
        time.sleep(0.25)
    after = synthesizer_stats()
    rendered = after.get("pieces_rendered", 0) - before.get("pieces_rendered", 0)
    assert rendered < 20, f"{rendered} of 61 pieces rendered for a client that left"
