"""Streaming synthesis in-process: text pieces, the engine stream, SSE and raw audio over HTTP."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import struct
import time
from typing import Any

import av
import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from tests.unit.conftest import register_and_login
from voxify.aio import iterate_in_thread
from voxify.engines.piper import PiperEngine
from voxify.engines.pool import EngineSet
from voxify.speech import SynthesisRequest
from voxify.text import stream_pieces

# 300 characters, as in the streaming benchmark.
TEXT = (
    "Streaming speech should start quickly, because listeners notice any delay before the "
    "first word. The service renders the opening clause on its own, then whole sentences; "
    "each one arrives while the previous one is still playing. Long sentences are cut at "
    "commas, and nothing is ever cut inside a word."
)


def words(text: str) -> list[str]:
    return text.split()


def test_pieces_open_short_and_keep_every_word_in_order() -> None:
    pieces = stream_pieces(TEXT)
    assert len(words(pieces[0].text)) <= 4
    assert [w for p in pieces for w in words(p.text)] == words(TEXT)
    assert pieces[-1].end == "sentence"
    long_opening = stream_pieces("The quick brown fox jumps over the lazy dog near the bank.")
    assert long_opening[0].text == "The quick brown fox"
    assert long_opening[1].text == "jumps over the lazy dog near the bank."
    # A cut falls before a phrase-starting word where there is one in reach.
    assert stream_pieces("Fresh bread from the corner bakery is warm.")[0].text == "Fresh bread"
    assert long_opening[0].end == "word"
    assert [p.text for p in stream_pieces("Hi. — . Yes!")] == ["Hi.", "Yes!"]
    run_on = " ".join(["word"] * 120) + "."
    assert all(len(p.text) <= 250 for p in stream_pieces(run_on))


def test_engine_stream_matches_whole_render_and_stops_when_closed(piper: PiperEngine) -> None:
    engines = EngineSet(piper)
    request = SynthesisRequest(text=TEXT)
    chunks = list(engines.stream(request))
    assert len(chunks) == len(stream_pieces(TEXT)) and chunks[-1].progress == 1.0
    assert [c.progress for c in chunks] == sorted(c.progress for c in chunks)
    streamed = sum(c.audio.duration for c in chunks)
    whole = engines.render(request).duration
    assert abs(streamed - whole) < 0.15 * whole  # the same speech, paused a little differently

    async def first_then_leave() -> None:
        async for _ in iterate_in_thread(engines.stream(request)):
            break

    asyncio.run(first_then_leave())
    deadline = time.monotonic() + 10
    while engines.stats["streams_stopped"] < 1:
        assert time.monotonic() < deadline, "the abandoned stream was never closed"
        time.sleep(0.05)
    # The stream stopped at the next piece boundary: at most one more piece was rendered.
    assert engines.stats["pieces_rendered"] <= len(chunks) + 2


def sse_events(response: Any) -> list[dict[str, Any]]:
    return [
        json.loads(line[len("data: ") :])
        for line in response.text.splitlines()
        if line.startswith("data: ")
    ]


def decode_data_url(url: str) -> tuple[np.ndarray, int]:
    header, payload = url.split(",", 1)
    assert header.startswith("data:audio/") and header.endswith(";base64")
    samples, rate = sf.read(io.BytesIO(base64.b64decode(payload)), dtype="float32")
    return samples, rate


def test_sse_stream_sends_chunks_then_stores_the_whole(client: TestClient) -> None:
    headers = register_and_login(client, "sse@example.com")
    response = client.get(
        "/api/v1/tts/synthesize/stream",
        headers=headers,
        params={"text": TEXT, "voice_id": "default_voice_001"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "job_info" and kinds[-1] == "completed" and "error" not in kinds
    chunks = [e for e in events if e["type"] == "audio_chunk"]
    assert [c["chunk_id"] for c in chunks] == list(range(1, len(chunks) + 1))
    assert len(chunks) >= 4
    total = 0.0
    for chunk in chunks:
        samples, rate = decode_data_url(chunk["audio_url"])
        assert rate == 22050 and abs(len(samples) / rate - chunk["duration"]) < 0.01
        assert np.sqrt(np.mean(samples**2)) > 0.01  # speech, not silence
        total += chunk["duration"]
    progress = [e["progress"] for e in events if e["type"] == "progress"]
    assert progress == sorted(progress) and progress[-1] == 1.0
    done = events[-1]
    assert abs(done["duration"] - total) < 0.01 and done["chunks"] == len(chunks)
    audio = client.get(done["audio_path"], headers=headers)
    assert audio.status_code == 200
    samples, rate = sf.read(io.BytesIO(audio.content), dtype="float32")
    assert abs(len(samples) / rate - total) < 0.01


def test_sse_chunks_in_mp3(client: TestClient) -> None:
    headers = register_and_login(client, "mp3@example.com")
    response = client.get(
        "/api/v1/tts/synthesize/stream",
        headers=headers,
        params={"text": "Hello there. How are you?", "format": "mp3"},
    )
    events = sse_events(response)
    chunk = next(e for e in events if e["type"] == "audio_chunk")
    assert chunk["audio_url"].startswith("data:audio/mpeg;base64,")
    samples, _ = decode_data_url(chunk["audio_url"])
    assert len(samples) > 0 and events[-1]["format"] == "mp3"


def parse_streaming_wav(data: bytes) -> tuple[int, np.ndarray]:
    riff, size, wave = struct.unpack("<4sI4s", data[:12])
    assert (riff, wave) == (b"RIFF", b"WAVE") and size == 0xFFFFFFFF  # length unknown upfront
    rate = struct.unpack("<I", data[24:28])[0]
    assert data[36:40] == b"data"
    return rate, np.frombuffer(data[44:], dtype="<i2").astype(np.float32) / 32767


@pytest.mark.parametrize("fmt", ["wav", "pcm"])
def test_raw_stream_is_the_speech(client: TestClient, fmt: str) -> None:
    headers = register_and_login(client, f"raw-{fmt}@example.com")
    with client.stream(
        "POST", "/api/v1/tts/stream", headers=headers, json={"text": TEXT, "format": fmt}
    ) as response:
        assert response.status_code == 200
        parts = list(response.iter_bytes())
    expected = "audio/wav" if fmt == "wav" else "audio/pcm;rate=22050;channels=1"
    assert response.headers["content-type"] == expected
    assert response.headers["x-sample-rate"] == "22050"
    data = b"".join(parts)
    if fmt == "wav":
        rate, samples = parse_streaming_wav(data)
    else:
        rate, samples = 22050, np.frombuffer(data, dtype="<i2").astype(np.float32) / 32767
    assert rate == 22050 and 12 < len(samples) / rate < 30  # ~50 words of speech
    assert np.sqrt(np.mean(samples**2)) > 0.02


@pytest.mark.parametrize(
    ("fmt", "rate", "media_type"),
    [
        ("mp3", 22050, "audio/mpeg"),
        ("opus", 24000, "audio/ogg; codecs=opus"),
        ("ulaw", 8000, "audio/basic"),
    ],
)
def test_raw_stream_in_compressed_formats(
    client: TestClient, fmt: str, rate: int, media_type: str
) -> None:
    headers = register_and_login(client, f"raw-{fmt}@example.com")
    with client.stream(
        "POST", "/api/v1/tts/stream", headers=headers, json={"text": TEXT, "format": fmt}
    ) as response:
        assert response.status_code == 200
        parts = [part for part in response.iter_bytes() if part]
    assert response.headers["content-type"] == media_type
    assert response.headers["x-sample-rate"] == str(rate)
    assert len(parts) > 2  # sent as it rendered, not as one body at the end
    data = b"".join(parts)
    if fmt == "ulaw":
        samples, _ = sf.read(
            io.BytesIO(data), samplerate=8000, channels=1, format="RAW", subtype="ULAW"
        )
        seconds = len(samples) / 8000
    else:
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.audio[0]
            seconds = sum(frame.samples for frame in container.decode(stream)) / stream.rate
    assert 12 < seconds < 30


def test_raw_stream_applies_the_options(client: TestClient) -> None:
    headers = register_and_login(client, "raw-options@example.com")
    response = client.post(
        "/api/v1/tts/stream",
        headers=headers,
        json={
            "text": "Hello there.",
            "format": "pcm",
            "config": {"sample_rate": 16000, "volume": 0.5, "speed": 1.5},
        },
    )
    assert response.status_code == 200 and response.headers["x-sample-rate"] == "16000"
    samples = np.frombuffer(response.content, dtype="<i2")
    assert 0.3 < len(samples) / 16000 < 1.2


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/api/v1/tts/synthesize/stream", {"text": "Hi.", "voice_id": "nope"}, 404, "NOT_FOUND"),
        (
            "/api/v1/tts/synthesize/stream",
            {"text": "Hi.", "voice_id": "xtts_ana_florence"},
            422,
            "ENGINE_UNAVAILABLE",
        ),
        ("/api/v1/tts/synthesize/stream", {"text": "Hi.", "format": "aiff"}, 422, None),
        (
            "/api/v1/tts/synthesize/stream",
            {"text": "Hi.", "format": "mp3", "sample_rate": 9000},
            422,
            "INCOMPATIBLE_OPTIONS",
        ),
        ("/api/v1/tts/synthesize/stream", {"text": "!!!"}, 400, "INVALID_PARAMETER"),
        (
            "/api/v1/tts/synthesize/stream",
            {"text": "Bonjour.", "language": "fr-FR"},
            400,
            "INVALID_PARAMETER",
        ),
    ],
)
def test_bad_stream_requests_answer_before_streaming(
    client: TestClient, path: str, params: dict[str, Any], status: int, code: str | None
) -> None:
    headers = register_and_login(client, "bad-stream@example.com")
    response = client.get(path, headers=headers, params=params)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    if code is not None:
        assert body["error"]["code"] == code


def test_stream_text_limit_and_auth(make_client: Any) -> None:
    client = make_client(max_stream_text_chars=50)
    headers = register_and_login(client, "limit@example.com")
    response = client.post("/api/v1/tts/stream", headers=headers, json={"text": "word " * 20})
    assert response.status_code == 400 and response.json()["error"]["code"] == "TEXT_TOO_LONG"
    assert client.post("/api/v1/tts/stream", json={"text": "Hi."}).status_code == 401
    assert client.get("/api/v1/tts/synthesize/stream", params={"text": "Hi."}).status_code == 401


def test_deadline_lock_serves_the_earliest_deadline_first() -> None:
    import threading

    from voxify.engines.schedule import DeadlineLock

    lock = DeadlineLock()
    order: list[str] = []
    waiting = threading.Barrier(3)

    def take(name: str, deadline: float) -> None:
        waiting.wait()
        with lock.hold(deadline):
            order.append(name)

    with lock.hold(0.0):
        threads = [
            threading.Thread(target=take, args=(name, deadline))
            for name, deadline in (("later", 5.0), ("sooner", 1.0))
        ]
        for thread in threads:
            thread.start()
        waiting.wait()
        # Both must be queued behind the holder before it lets go (a fixed sleep was a guess).
        deadline = time.monotonic() + 10
        while len(lock._waiting) < 2:
            assert time.monotonic() < deadline, "the two takers never queued"
            time.sleep(0.01)
    for thread in threads:
        thread.join(5)
    assert order == ["sooner", "later"]
