"""Seed 000 Workflow 1 and the job/file/voice endpoints, in-process (no Ray)."""

from __future__ import annotations

import io
import json
from typing import Any

import soundfile as sf
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.unit.conftest import register_and_login, wait_for_job
from voxify.audio.analysis import decode, speech_stats
from voxify.db.models import Job

TEXT = "Hello world, this uses the default voice model!"


def test_workflow_1_in_process(client: TestClient) -> None:
    headers = register_and_login(client, "user@example.com")
    created = client.post(
        "/api/v1/job",
        headers=headers,
        json={
            "text_content": TEXT,
            "voice_model_id": "default_voice_001",
            "output_format": "wav",
            "speed": 1.0,
            "pitch": 1.0,
            "volume": 1.0,
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert body["success"] is True and body["error"] is None and body["timestamp"].endswith("Z")
    job_id = body["data"]["id"]
    assert job_id.startswith("job_") and body["data"]["status"] == "pending"
    assert body["data"]["word_count"] == 8 and body["data"]["text_length"] == len(TEXT)

    with client.stream(
        "GET", f"/api/v1/job/{job_id}/progress", headers={**headers, "Accept": "text/event-stream"}
    ) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in stream.iter_lines() if line.startswith("data:")]
    assert events[-1] == {"event": "complete"}
    assert events[-2]["status"] == "completed" and events[-2]["progress"] == 100.0
    progress = [e["progress"] for e in events[:-1]]
    assert progress == sorted(progress)

    job = client.get(f"/api/v1/job/{job_id}", headers=headers).json()["data"]
    assert job["status"] == "completed" and job["duration"] > 1.0

    audio = client.get(f"/api/v1/files/audio/{job_id}", headers=headers)
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    decoded = decode(audio.content)
    stats = speech_stats(decoded.samples, decoded.sample_rate)
    assert decoded.sample_rate == 22050
    assert 1.5 < stats.duration_s < 6.0
    assert stats.rms_dbfs > -35 and stats.voiced_fraction > 0.2 and stats.clipped_fraction < 0.001


def test_job_parameters_are_honoured(client: TestClient) -> None:
    headers = register_and_login(client, "params@example.com")
    sentence = "The quick brown fox jumps over the lazy dog near the quiet river bank."
    ids = {}
    for name, extra in {
        "plain": {},
        "fast": {"speed": 1.6},
        "flac16k": {"output_format": "flac", "sample_rate": 16000},
        "mp3": {"output_format": "mp3", "sample_rate": 44100},
        "ogg": {"output_format": "ogg", "sample_rate": 24000},
    }.items():
        response = client.post(
            "/api/v1/job", headers=headers, json={"text_content": sentence, **extra}
        )
        assert response.status_code == 201, response.text
        ids[name] = response.json()["data"]["id"]
    results = {name: wait_for_job(client, headers, job_id) for name, job_id in ids.items()}
    assert all(job["status"] == "completed" for job in results.values()), results
    # Separate Piper draws: 0.67-0.74 over 21 onnxruntime seeds (speeds 1.6 and 1.0 of this text).
    assert results["fast"]["duration"] < results["plain"]["duration"] * 0.8
    for name, fmt, rate in [
        ("flac16k", "FLAC", 16000),
        ("mp3", "MP3", 44100),
        ("ogg", "OGG", 24000),
    ]:
        data = client.get(f"/api/v1/files/audio/{ids[name]}", headers=headers).content
        info = sf.info(io.BytesIO(data))
        assert info.format == fmt and info.samplerate == rate
        # Against its own job: each job is a separate Piper draw, whose length varies by a few %.
        assert abs(info.duration - results[name]["duration"]) < 0.06


def test_sync_and_async_tts(client: TestClient) -> None:
    headers = register_and_login(client, "tts@example.com")
    response = client.post(
        "/api/v1/tts/synthesize",
        headers=headers,
        json={
            "text": "Hello, this is a voice synthesis test.",
            "voice_id": "default_voice_001",
            "config": {"output_format": "wav", "sample_rate": 16000, "volume": 0.5},
        },
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["audio_url"].endswith(data["audio_path"]) and data["sample_rate"] == 16000
    download = client.get(data["audio_path"], headers=headers)
    assert download.status_code == 200
    assert sf.info(io.BytesIO(download.content)).samplerate == 16000
    info = client.get(f"/api/v1/files/{data['file_id']}/info", headers=headers).json()["data"]
    assert info["size"] == len(download.content) and info["content_type"] == "audio/wav"

    queued = client.post(
        "/api/v1/tts/synthesize/async",
        headers=headers,
        json={
            "text": "This is a long text that requires asynchronous processing. " * 5,
        },
    )
    assert queued.status_code == 202
    job_id = queued.json()["data"]["job_id"]
    assert wait_for_job(client, headers, job_id)["status"] == "completed"
    assert client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()["data"]["id"] == job_id


def test_list_filters_sorting_and_pagination(client: TestClient) -> None:
    headers = register_and_login(client, "lister@example.com")
    texts = ["Alpha one.", "Beta two is longer.", "Gamma three is the longest of all."]
    ids = [
        client.post("/api/v1/job", headers=headers, json={"text_content": t}).json()["data"]["id"]
        for t in texts
    ]
    for job_id in ids:
        wait_for_job(client, headers, job_id)
    page = client.get(
        "/api/v1/job?limit=2&offset=0&sort_by=text_length&sort_order=asc&include_text=false",
        headers=headers,
    ).json()
    assert [j["id"] for j in page["data"]] == ids[:2]
    assert page["data"][0]["text_content"] is None
    pagination = page["meta"]["pagination"]
    assert pagination["total_count"] == 3 and pagination["has_more"] is True
    assert pagination["page"] == 1 and pagination["total_pages"] == 2
    second = client.get(
        "/api/v1/jobs?page=2&page_size=2&sort_by=text_length&sort_order=asc", headers=headers
    ).json()
    assert [j["id"] for j in second["data"]] == ids[2:]
    assert second["meta"]["pagination"]["has_prev"] is True
    found = client.get("/api/v1/job?text_search=gamma", headers=headers).json()["data"]
    assert [j["id"] for j in found] == [ids[2]]
    done = client.get(
        "/api/v1/job?status=completed&voice_model_id=default_voice_001", headers=headers
    ).json()["meta"]["pagination"]["total_count"]
    assert done == 3
    assert client.get("/api/v1/job?status=pending", headers=headers).json()["data"] == []


def test_put_patch_cancel_delete(client: TestClient) -> None:
    headers = register_and_login(client, "editor@example.com")
    job_id = client.post(
        "/api/v1/job", headers=headers, json={"text_content": "Short text."}
    ).json()["data"]["id"]
    final = wait_for_job(client, headers, job_id)
    assert final["status"] == "completed"
    refused = client.put(f"/api/v1/job/{job_id}", headers=headers, json={"speed": 1.5})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "INVALID_STATE"
    again = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=headers)
    assert again.status_code == 409
    deleted = client.delete(f"/api/v1/job/{job_id}", headers=headers)
    assert deleted.status_code == 200 and deleted.json()["message"] == "Job deleted successfully"
    assert client.get(f"/api/v1/job/{job_id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/files/audio/{job_id}", headers=headers).status_code == 404


def test_voice_models_and_health(client: TestClient) -> None:
    headers = register_and_login(client, "voices@example.com")
    models = client.get("/api/v1/voice/models?type=preset&language=en-US", headers=headers).json()
    assert "default_voice_001" in [m["voice_model_id"] for m in models["data"]]
    assert models["meta"]["filters"]["available_types"] == ["preset"]
    one = client.get("/api/v1/voice/models/default_voice_001", headers=headers).json()["data"]
    assert one["model_config"]["sample_rate"] == 22050
    french = client.get("/api/v1/voice/models?language=fr-FR", headers=headers).json()["data"]
    assert [m["voice_model_id"] for m in french] == ["kokoro_ff_siwis"]
    assert client.get("/api/v1/voice/models?language=de-DE", headers=headers).json()["data"] == []
    health = client.get("/api/v1/health").json()["data"]
    assert health["status"] == "ready" and set(health["parts"]) == {
        "database",
        "blob_store",
        "synthesizer",
        "job_runner",
        "embedder",
    }


def test_pending_job_edits_then_processing_refuses_delete(make_client: Any) -> None:
    client = make_client(run_jobs=False)
    headers = register_and_login(client, "pending@example.com")
    job_id = client.post(
        "/api/v1/job", headers=headers, json={"text_content": "Original words."}
    ).json()["data"]["id"]
    put = client.put(
        f"/api/v1/job/{job_id}",
        headers=headers,
        json={
            "text_content": "Replaced words here.",
            "speed": 1.5,
            "output_format": "mp3",
            "sample_rate": 44100,
        },
    )
    assert put.status_code == 200, put.text
    data = put.json()["data"]
    assert data["text_content"] == "Replaced words here." and data["word_count"] == 3
    assert (data["speed"], data["output_format"], data["sample_rate"]) == (1.5, "mp3", 44100)
    patched = client.patch(f"/api/v1/job/{job_id}", headers=headers, json={"volume": 0.5})
    assert patched.json()["data"]["volume"] == 0.5 and patched.json()["data"]["speed"] == 1.5

    services = client.app.state.services
    with services.sessions() as session:  # as if a runner had claimed it
        session.execute(update(Job).where(Job.id == job_id).values(status="processing"))
        session.commit()
    refused = client.delete(f"/api/v1/job/{job_id}", headers=headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "INVALID_STATE"
    assert (
        client.put(f"/api/v1/job/{job_id}", headers=headers, json={"speed": 1.0}).status_code == 409
    )
    cancelled = client.patch(f"/api/v1/job/{job_id}", headers=headers, json={"status": "cancelled"})
    assert cancelled.status_code == 200 and cancelled.json()["data"]["status"] == "cancelled"
    assert client.delete(f"/api/v1/job/{job_id}", headers=headers).status_code == 200


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    from tests.unit.test_observability import moved, scrape

    headers = register_and_login(client, "metrics@example.com")
    before = scrape(client)
    client.get("/api/v1/job/job_doesnotexist", headers=headers)
    after = scrape(client)
    route = {"method": "GET", "route": "/api/v1/job/{job_id}", "status": "404"}
    assert moved(before, after, "voxify_http_requests_total", **route) == 1
    assert "job_doesnotexist" not in client.get("/metrics").text
