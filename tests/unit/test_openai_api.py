"""The OpenAI-compatible door, driven by the official `openai` SDK over the in-process app."""

from __future__ import annotations

import base64
import io
import json
import math
from pathlib import Path
from typing import Any

import av
import numpy as np
import openai
import pytest
from fastapi.testclient import TestClient

from tests.unit.conftest import add_ready_clone, register_and_login

TEXT = "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background."


def _key(client: TestClient, email: str) -> str:
    headers = register_and_login(client, email)
    response = client.post("/api/v1/auth/api-keys", json={"name": "sdk"}, headers=headers)
    assert response.status_code == 201, response.text
    key: str = response.json()["data"]["key"]
    return key


def _sdk(client: TestClient, key: str) -> openai.OpenAI:
    # The SDK's own HTTP client is an httpx.Client; TestClient is one, bound to the app.
    return openai.OpenAI(
        api_key=key, base_url="http://testserver/v1", http_client=client, max_retries=0
    )


def _decode(data: bytes) -> tuple[np.ndarray, int]:
    """Samples and rate of a compressed file, decoded by FFmpeg (PyAV)."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        frames = [frame.to_ndarray().reshape(-1) for frame in container.decode(stream)]
        rate = stream.rate
    samples = np.concatenate(frames).astype(np.float64)
    if np.abs(samples).max() > 1.5:  # integer samples
        samples /= 32768.0
    return samples, rate


def _speech_like(samples: np.ndarray, rate: int, min_s: float) -> None:
    duration = len(samples) / rate
    rms = math.sqrt(float(np.mean(samples**2)))
    assert duration >= min_s, duration
    assert 20 * math.log10(rms) > -35, rms


@pytest.fixture
def sdk_client(client: TestClient) -> tuple[TestClient, openai.OpenAI]:
    return client, _sdk(client, _key(client, "sdk@example.com"))


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav"])
def test_speech_create_in_each_format(sdk_client: Any, fmt: str) -> None:
    _, sdk = sdk_client
    response = sdk.audio.speech.create(
        model="tts-1", voice="alloy", input=TEXT, response_format=fmt
    )
    samples, rate = _decode(response.content)
    _speech_like(samples, rate, min_s=3.0)


def test_pcm_is_raw_24khz_and_says_so(sdk_client: Any) -> None:
    _, sdk = sdk_client
    with sdk.audio.speech.with_streaming_response.create(
        model="tts-1-hd", voice="nova", input=TEXT, response_format="pcm", speed=1.5
    ) as raw:
        assert raw.headers["content-type"].startswith("audio/pcm")
        assert "rate=24000" in raw.headers["content-type"]
        data = raw.read()
    samples = np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0
    _speech_like(samples, 24000, min_s=2.0)


def test_streaming_response_to_file_and_speed(sdk_client: Any, tmp_path: Path) -> None:
    _, sdk = sdk_client
    durations = {}
    for speed in (1.0, 2.0):
        path = tmp_path / f"speech-{speed}.mp3"
        with sdk.audio.speech.with_streaming_response.create(
            model="gpt-4o-mini-tts",
            voice="onyx",
            input=TEXT,
            speed=speed,
            instructions="Speak calmly.",
        ) as response:
            assert response.headers["content-type"] == "audio/mpeg"
            response.stream_to_file(path)
        samples, rate = _decode(path.read_bytes())
        _speech_like(samples, rate, min_s=1.5)
        durations[speed] = len(samples) / rate
    # Phonemes take half as long; pauses between sentences do not shrink.
    assert 0.5 < durations[2.0] / durations[1.0] < 0.7


def test_sse_stream_format(sdk_client: Any) -> None:
    _, sdk = sdk_client
    with sdk.audio.speech.with_streaming_response.create(
        model="tts-1", voice="shimmer", input=TEXT, response_format="wav", stream_format="sse"
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [
            json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")
        ]
    assert [e["type"] for e in events[:-1]] == ["speech.audio.delta"] * (len(events) - 1)
    assert len(events) >= 3 and events[-1]["type"] == "speech.audio.done"
    assert events[-1]["usage"]["input_tokens"] > 0
    audio = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert audio[:4] == b"RIFF"
    samples = np.frombuffer(audio[44:], dtype="<i2").astype(np.float64) / 32768.0
    _speech_like(samples, 22050, min_s=3.0)


def test_errors_raise_the_sdks_types(make_client: Any) -> None:
    client = make_client(syntheses_per_day=1)
    key = _key(client, "errors@example.com")
    sdk = _sdk(client, key)
    with pytest.raises(openai.BadRequestError) as bad_voice:
        sdk.audio.speech.create(model="tts-1", voice="no-such-voice", input="Hello.")
    assert bad_voice.value.param == "voice" and bad_voice.value.type == "invalid_request_error"
    with pytest.raises(openai.BadRequestError) as bad_model:
        sdk.audio.speech.create(model="tts-9", voice="alloy", input="Hello.")
    assert bad_model.value.param == "model"
    with pytest.raises(openai.BadRequestError):
        sdk.audio.speech.create(model="tts-1", voice="alloy", input="x" * 4097)
    with pytest.raises(openai.BadRequestError):
        sdk.audio.speech.create(model="tts-1", voice="alloy", input="Hi.", speed=5.0)
    with pytest.raises(openai.AuthenticationError):
        _sdk(client, key[:-3] + "abc").audio.speech.create(
            model="tts-1", voice="alloy", input="Hello."
        )
    sdk.audio.speech.create(model="tts-1", voice="alloy", input="The one allowed today.")
    with pytest.raises(openai.RateLimitError) as exhausted:
        sdk.audio.speech.create(model="tts-1", voice="alloy", input="One too many.")
    assert exhausted.value.type == "insufficient_quota"
    assert exhausted.value.response.headers.get("retry-after")


def test_models_and_voices(sdk_client: Any) -> None:
    client, sdk = sdk_client
    assert {m.id for m in sdk.models.list()} == {"tts-1", "tts-1-hd", "gpt-4o-mini-tts"}
    assert sdk.models.retrieve("tts-1").owned_by == "voxify"
    with pytest.raises(openai.NotFoundError):
        sdk.models.retrieve("whisper-1")
    auth = {"Authorization": f"Bearer {sdk.api_key}"}
    listed = client.get("/v1/audio/models", headers=auth).json()["data"]
    assert [m["id"] for m in listed] == ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"]
    voices = client.get("/v1/audio/voices", headers=auth)
    ids = [v["id"] for v in voices.json()["voices"]]
    assert {"alloy", "nova", "onyx"} <= set(ids) and "default_voice_001" in ids


def test_own_clone_by_id_and_others_refused(client: TestClient) -> None:
    owner_key = _key(client, "owner@example.com")
    other_key = _key(client, "other@example.com")
    clone_id = add_ready_clone(client, "owner@example.com")
    response = _sdk(client, owner_key).audio.speech.create(
        model="tts-1", voice={"id": clone_id}, input=TEXT, response_format="flac"
    )
    samples, rate = _decode(response.content)
    _speech_like(samples, rate, min_s=3.0)
    with pytest.raises(openai.BadRequestError):
        _sdk(client, other_key).audio.speech.create(model="tts-1", voice=clone_id, input=TEXT)
    voices = client.get("/v1/audio/voices", headers={"X-API-Key": other_key}).json()["voices"]
    assert clone_id not in [v["id"] for v in voices]
