"""Seed 000 Workflow 1, step by step as the seed writes it, against real Ray Serve over HTTP."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.integration.conftest import PASSWORD, login
from tests.speech import assert_real_speech

TEXT = "Hello world, this uses the default voice model!"


def test_workflow_1_preset_voice(http: httpx.Client) -> None:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    # 1. User Registration
    registered = http.post(
        "/api/v1/auth/register",
        headers={"Content-Type": "application/json"},
        json={"email": email, "password": PASSWORD, "first_name": "John", "last_name": "Doe"},
    )
    assert registered.status_code == 201, registered.text
    assert registered.json()["data"]["user_id"].startswith("usr_")
    # 2. User Login
    logged_in = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert logged_in.status_code == 200
    tokens = logged_in.json()["data"]
    assert tokens["expires_in"] == 3600 and tokens["refresh_token"]
    assert tokens["user"]["email"] == email
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    # 3. Create Synthesis Job (using default voice model)
    created = http.post(
        "/api/v1/job",
        headers={**auth, "Content-Type": "application/json"},
        json={
            "text_content": TEXT,
            "voice_model_id": "default_voice_001",
            "output_format": "wav",
            "speed": 1.0,
            "pitch": 1.0,
            "volume": 1.0,
        },
    )
    assert created.status_code == 201, created.text
    job_id = created.json()["data"]["id"]
    # 4. Monitor Synthesis Progress (Real-time)
    events = []
    with http.stream(
        "GET", f"/api/v1/job/{job_id}/progress", headers={**auth, "Accept": "text/event-stream"}
    ) as stream:
        assert stream.status_code == 200
        for line in stream.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    assert events[-1] == {"event": "complete"}
    assert events[-2]["status"] == "completed" and events[-2]["progress"] == 100.0
    assert any(e.get("status") in ("pending", "processing") for e in events[:-2])
    # 5. Get Synthesis Result
    job = http.get(f"/api/v1/job/{job_id}", headers=auth).json()["data"]
    assert job["status"] == "completed" and job["output_file_path"]
    # 6. Download Audio File via File Management
    audio = http.get(f"/api/v1/files/audio/{job_id}", headers=auth)
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    stats = assert_real_speech(audio.content, words=len(TEXT.split()))
    assert abs(stats.duration_s - job["duration"]) < 0.05


def test_sync_synthesis_concurrently_through_the_pool(http: httpx.Client, serve_url: str) -> None:
    auth = login(http, f"sync-{uuid.uuid4().hex[:8]}@example.com")
    sentences = [f"Request number {i} asks for a short sentence of speech." for i in range(6)]

    def synthesize(text: str) -> bytes:
        with httpx.Client(base_url=serve_url, timeout=120) as client:
            response = client.post("/api/v1/tts/synthesize", headers=auth, json={"text": text})
            assert response.status_code == 200, response.text
            data = response.json()["data"]
            return client.get(data["audio_path"], headers=auth).content

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(synthesize, sentences))
    for text, data in zip(sentences, results, strict=True):
        assert_real_speech(data, words=len(text.split()))


def test_jobs_api_and_foreign_ids(http: httpx.Client) -> None:
    alice = login(http, f"alice-{uuid.uuid4().hex[:8]}@example.com")
    bob = login(http, f"bob-{uuid.uuid4().hex[:8]}@example.com")
    queued = http.post(
        "/api/v1/tts/synthesize/async",
        headers=alice,
        json={
            "text": "An asynchronous job. " * 20,
            "config": {"output_format": "mp3", "sample_rate": 44100},
        },
    )
    assert queued.status_code == 202
    job_id = queued.json()["data"]["job_id"]
    assert http.get(f"/api/v1/jobs/{job_id}", headers=bob).status_code == 404
    assert http.get(f"/api/v1/files/audio/{job_id}", headers=bob).status_code == 404
    listed = http.get("/api/v1/jobs?page=1&page_size=5", headers=alice).json()
    assert [j["id"] for j in listed["data"]] == [job_id]
    assert listed["meta"]["pagination"]["total_count"] == 1
    assert http.get("/api/v1/jobs", headers=bob).json()["data"] == []
    health = http.get("/api/v1/health").json()["data"]
    assert health["parts"]["synthesizer"] == "ok" and health["parts"]["job_runner"] == "ok"
    assert http.get("/openapi.json").json()["info"]["title"] == "Voxify"
