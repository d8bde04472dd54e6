"""The XTTS pool on real Ray Serve: a tiny random XTTS v2 checkpoint through the real deployment.

Loading, latents, batched inference (@serve.batch), streaming and overload all run here on the
CPU; the GPU-only figures come from loadtests/xtts_benchmark.py where a GPU is lent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf

from tests.conftest import FIXTURES
from tests.integration.conftest import JWT_SECRET, login
from tests.xtts_tiny import SAMPLES_PER_TOKEN, SPEAKERS, build_tiny_xtts
from voxify.config import XTTS_POOL, Settings
from voxify.errors import Unavailable
from voxify.speech import Audio, SynthesisRequest
from voxify.storage import open_blob_store

TOKENS = 20


@pytest.fixture(scope="module")
def xtts_settings(tmp_path_factory: pytest.TempPathFactory, chroma_server_url: str) -> Settings:
    root: Path = tmp_path_factory.mktemp("xtts-pool")
    return Settings(
        environment="test",
        data_dir=root / "data",
        jwt_secret=JWT_SECRET,
        xtts_model_dir=build_tiny_xtts(root / "model"),
        xtts_max_new_tokens=TOKENS,
        vector_url=chroma_server_url,
    )


@pytest.fixture(scope="module")
def xtts_pool(serve_url: str, xtts_settings: Settings) -> Iterator[Any]:
    """An XTTS pool replica that groups up to 4 concurrent requests per batch."""
    from ray import serve

    from deployments.synthesizer import Synthesizer

    deployment = Synthesizer.options(  # type: ignore[attr-defined]
        name=XTTS_POOL,
        ray_actor_options={"num_cpus": 0.25},
        user_config={"max_batch_size": 4, "batch_wait_timeout_s": 0.5},
    )
    handle = serve.run(deployment.bind(xtts_settings, "xtts"), name="xtts-pool", route_prefix=None)
    yield handle
    serve.delete("xtts-pool")


def test_pool_conditions_batches_and_streams(xtts_pool: Any, xtts_settings: Settings) -> None:
    from deployments.synthesizer import RaySynthesis

    synthesis = RaySynthesis(xtts_pool, xtts_pool)
    assert xtts_pool.xtts_speakers.remote().result(timeout_s=120) == list(SPEAKERS)
    samples, rate = sf.read(FIXTURES / "speech" / "librivox_male_0870.wav", dtype="float32")
    latents = synthesis.conditioning_latents([Audio(samples, rate)])
    assert latents is not None and len(latents) > 10_000
    key = "clones/usr_test/vc_test/xtts_latents.pt"
    open_blob_store(xtts_settings.blob_url).put(key, latents, "application/octet-stream")

    requests = [
        SynthesisRequest(
            text="Ciao a tutti.",
            voice_id="vc_test",
            language="it-IT",
            engine="xtts",
            latents_key=key,
        ),
        SynthesisRequest(
            text="Hello there, friend.",
            voice_id="xtts_studio_speaker_a",
            language="en",
            engine="xtts",
            speaker=SPEAKERS[0],
        ),
        SynthesisRequest(
            text="Guten Tag.",
            voice_id="xtts_studio_speaker_b",
            language="de",
            engine="xtts",
            speaker=SPEAKERS[1],
            volume=0.5,
        ),
        SynthesisRequest(
            text="Bonjour.",
            voice_id="vc_test",
            language="fr",
            engine="xtts",
            latents_key=key,
            sample_rate=16000,
        ),
    ]
    with ThreadPoolExecutor(len(requests)) as pool:
        audios = list(pool.map(synthesis.synthesize, requests))
    for audio, request in zip(audios, requests, strict=True):
        rate = request.sample_rate or 24000
        assert audio.sample_rate == rate
        assert abs(len(audio.samples) - TOKENS * SAMPLES_PER_TOKEN * rate / 24000) < 0.01 * rate
        assert np.isfinite(audio.samples).all() and np.abs(audio.samples).max() <= 1.0
    stats = xtts_pool.stats.remote().result()
    assert any(stats.get(f"batch_size_{n}", 0) for n in (2, 3, 4)), stats  # really grouped

    async def stream() -> list[Audio]:
        return [chunk.audio async for chunk in synthesis.stream(requests[1])]

    chunks = asyncio.run(stream())
    assert len(chunks) >= 2  # XTTS's streaming inference yields as tokens are decoded
    streamed = sum(len(c.samples) for c in chunks)
    assert abs(streamed - TOKENS * SAMPLES_PER_TOKEN) < 0.01 * 24000


def test_overloaded_pool_answers_unavailable_and_loses_nothing(
    serve_url: str, xtts_settings: Settings
) -> None:
    from ray import serve

    from deployments.synthesizer import RaySynthesis, Synthesizer

    deployment = Synthesizer.options(  # type: ignore[attr-defined]
        name=XTTS_POOL,
        max_ongoing_requests=1,
        max_queued_requests=1,
        ray_actor_options={"num_cpus": 0.25},
    )
    handle = serve.run(deployment.bind(xtts_settings, "xtts"), name="xtts-tight", route_prefix=None)
    try:
        synthesis = RaySynthesis(handle, handle)
        # Six sentences of capped generation: each request holds the replica for a second or more.
        request = SynthesisRequest(
            text="One more sentence to render. " * 6,
            engine="xtts",
            language="en",
            speaker=SPEAKERS[0],
        )

        def attempt(_: int) -> str:
            try:
                synthesis.synthesize(request)
            except Unavailable as exc:
                assert exc.retry_after >= 1
                return "busy"
            return "done"

        # One call first: the caller's router learns the pool's queue limit with its first request.
        assert synthesis.synthesize(request).duration > 0
        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(attempt, range(8)))
        # How many get in depends on when the router assigns the first one; some must be shed.
        assert outcomes.count("busy") >= 1 and outcomes.count("done") >= 1, outcomes
        # Nothing is lost: every refused request succeeds when its caller retries.
        for _ in range(outcomes.count("busy")):
            deadline = time.monotonic() + 60
            while attempt(0) == "busy":
                assert time.monotonic() < deadline, "the drained pool still refuses work"
                time.sleep(0.2)
    finally:
        serve.delete("xtts-tight")


@pytest.fixture(scope="module")
def xtts_app(
    serve_url: str, xtts_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The whole Voxify graph with an XTTS pool, on its own route prefix."""
    from ray import serve

    from deployments.app import build_app

    app = build_app(
        {
            **xtts_settings.model_dump(mode="json"),
            "job_stale_after_s": 5,
            "job_heartbeat_s": 1,
            # No Kokoro pool in this second app: the first one has it, and the cluster's 8
            # logical CPUs do not hold two of every pool beside the XTTS one.
            "kokoro_dir": str(tmp_path_factory.mktemp("no-kokoro")),
        }
    )
    serve.run(app, name="voxify-xtts", route_prefix="/xtts")
    url = f"{serve_url}/xtts"
    deadline = time.monotonic() + 120
    while httpx.get(f"{url}/api/v1/health", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "the XTTS app did not become healthy"
        time.sleep(0.5)
    yield url
    serve.delete("voxify-xtts")


def test_studio_speakers_speak_and_stream_over_http(xtts_app: str) -> None:
    with httpx.Client(base_url=xtts_app, timeout=120) as http:
        headers = login(http, "xtts-http@example.com")
        voices = http.get(
            "/api/v1/voice/models", headers=headers, params={"tags": "studio"}
        ).json()["data"]
        assert {v["voice_model_id"] for v in voices} == {
            "xtts_studio_speaker_a",
            "xtts_studio_speaker_b",
        }
        assert all(v["engine"] == "xtts" and len(v["languages"]) == 17 for v in voices)
        spoken = http.post(
            "/api/v1/tts/synthesize",
            headers=headers,
            json={
                "text": "Hola a todos.",
                "voice_id": "xtts_studio_speaker_a",
                "language": "es",
                "seed": 7,
                "config": {"sample_rate": 24000},
            },
        )
        assert spoken.status_code == 200, spoken.text
        assert spoken.json()["data"]["sample_rate"] == 24000
        with http.stream(
            "POST",
            "/api/v1/tts/stream",
            headers=headers,
            json={
                "text": "Hello there.",
                "voice_id": "xtts_studio_speaker_b",
                "language": "en",
                "format": "pcm",
                "config": {"sample_rate": 24000},
            },
        ) as response:
            assert response.status_code == 200
            assert response.headers["x-sample-rate"] == "24000"
            data = b"".join(response.iter_bytes())
        assert abs(len(data) / 2 - TOKENS * SAMPLES_PER_TOKEN) < 0.01 * 24000
        unknown = http.post(
            "/api/v1/tts/synthesize",
            headers=headers,
            json={"text": "Hi.", "voice_id": "xtts_nobody"},
        )
        assert unknown.status_code == 404
