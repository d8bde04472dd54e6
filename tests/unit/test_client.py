"""voxify.client against a real HTTP server (sync) and the ASGI app (async): every operation,
typed errors, and retries only where the service promised nothing happened."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import soundfile as sf

from tests.unit.conftest import PASSWORD, serve_over_loopback
from voxify.api.app import create_app
from voxify.api.context import Services
from voxify.client import (
    AsyncClient,
    AuthenticationError,
    BadRequest,
    Client,
    NotFound,
    QuotaExceeded,
    RateLimited,
    ServiceUnavailable,
)

SPEECH = Path(__file__).parents[1] / "fixtures" / "speech"
TEXT = "The birch canoe slid on the smooth planks."


@pytest.fixture
def url(make_services: Callable[..., Services]) -> Iterator[str]:
    with serve_over_loopback(make_services(syntheses_per_day=40)) as address:
        yield address


def _signed_in(url: str, email: str) -> Client:
    client = Client(url)
    client.register(email, PASSWORD, "Client", "Test")
    client.login(email, PASSWORD)
    return client


def test_speech_jobs_and_downloads(url: str, tmp_path: Path) -> None:
    with _signed_in(url, "client@example.com") as voxify:
        key = voxify.create_api_key("tests")["key"]
    with Client(url, api_key=key) as voxify:
        speech = voxify.synthesize(TEXT, format="flac", timestamps=True, speed=1.1)
        samples, rate = sf.read(io.BytesIO(speech.audio))
        assert rate == 22050 and len(samples) / rate == pytest.approx(speech.info["duration"], 0.01)
        assert [w["word"] for w in speech.info["words"]][:2] == ["The", "birch"]

        info = voxify.synthesize_to_file(tmp_path / "hello.mp3", TEXT, format="mp3")
        assert (tmp_path / "hello.mp3").stat().st_size == info["size"]

        streamed = b"".join(voxify.stream(TEXT, format="pcm"))
        assert len(streamed) > 22050  # over half a second of 16-bit samples

        job = voxify.create_job(TEXT * 3, format="opus")
        seen: list[dict[str, Any]] = []
        done = voxify.wait_for_job(job["id"], on_progress=seen.append)
        assert done["status"] == "completed" and seen and seen[-1]["status"] == "completed"
        assert voxify.download(job["id"])[:4] == b"OggS"
        assert [j["id"] for j in voxify.jobs(status="completed")] == [job["id"]]
        assert any(v["voice_model_id"] == "default_voice_001" for v in voxify.voices())


def test_samples_and_a_clone_with_progress(url: str) -> None:
    with _signed_in(url, "cloner@example.com") as voxify:
        sample = voxify.upload_sample(SPEECH / "librivox_male_0870.wav", name="Mine")
        processed = voxify.process_sample(sample["sample_id"])
        assert processed["status"] == "ready"
        steps: list[float] = []
        clone = voxify.create_clone(
            [sample["sample_id"]], "My voice", on_progress=lambda e: steps.append(e["progress"])
        )
        assert clone["status"] == "ready" and steps == sorted(steps) and steps[-1] == 100.0
        speech = voxify.synthesize(TEXT, voice_id=clone["clone_id"])
        assert speech.info["voice_id"] == clone["clone_id"]


def test_errors_are_typed(url: str) -> None:
    with _signed_in(url, "errors@example.com") as voxify:
        with pytest.raises(NotFound):
            voxify.job("job_00000000000000000000")
        with pytest.raises(BadRequest) as bad:
            voxify.synthesize(TEXT, format="mp3", sample_rate=9000)
        assert bad.value.code == "INCOMPATIBLE_OPTIONS" and bad.value.status == 422
        with pytest.raises(BadRequest):
            list(voxify.stream(TEXT, format="ulaw", sample_rate=16000))
    with (
        Client(url, api_key="vx_0123456789ab_nope") as stranger,
        pytest.raises(AuthenticationError),
    ):
        stranger.voices()


def _scripted(responses: list[httpx.Response]) -> tuple[httpx.MockTransport, list[int]]:
    sent: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(1)
        return responses[min(len(sent), len(responses)) - 1]

    return httpx.MockTransport(handle), sent


def _error(status: int, code: str, retry_after: str | None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after else {}
    body = {"success": False, "error": {"code": code, "message": code.lower(), "details": None}}
    return httpx.Response(status, json=body, headers=headers)


OK = httpx.Response(200, json={"success": True, "data": [{"voice_model_id": "v"}]})


def test_retries_only_refusals_that_promise_nothing_happened() -> None:
    transport, sent = _scripted([_error(503, "SERVICE_UNAVAILABLE", "0"), OK])
    assert Client(transport=transport).voices() == [{"voice_model_id": "v"}]
    assert len(sent) == 2  # the busy answer was sent again, once

    transport, sent = _scripted([_error(429, "QUOTA_EXCEEDED", "0"), OK])
    with pytest.raises(QuotaExceeded):  # today's quota does not come back in a second
        Client(transport=transport).voices()
    assert len(sent) == 1

    transport, sent = _scripted([_error(429, "RATE_LIMITED", "45"), OK])
    with pytest.raises(RateLimited) as limited:  # longer than the caller will wait
        Client(transport=transport, max_retry_wait=10).voices()
    assert limited.value.retry_after == 45 and len(sent) == 1

    transport, sent = _scripted([_error(503, "SERVICE_UNAVAILABLE", "0")])
    with pytest.raises(ServiceUnavailable):
        Client(transport=transport, max_retries=2).voices()
    assert len(sent) == 3

    transport, sent = _scripted([_error(500, "INTERNAL_ERROR", None), OK])
    with pytest.raises(Exception, match="internal_error"):
        Client(transport=transport).voices()
    assert len(sent) == 1


def test_async_client(make_services: Callable[..., Services]) -> None:
    app = create_app(make_services())

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with AsyncClient("http://voxify", transport=transport) as voxify:
            await voxify.register("async@example.com", PASSWORD, "A", "Sync")
            await voxify.login("async@example.com", PASSWORD)
            speech = await voxify.synthesize(TEXT, format="wav")
            assert speech.audio[:4] == b"RIFF" and speech.info["format"] == "wav"
            job = await voxify.create_job(TEXT)
            seen: list[float] = []

            async def note(event: dict[str, Any]) -> None:
                seen.append(event["progress"])

            done = await voxify.wait_for_job(job["id"], on_progress=note)
            assert done["status"] == "completed" and seen[-1] == 100.0
            with pytest.raises(NotFound):
                await voxify.clone("vc_00000000000000000000")

    asyncio.run(run())
