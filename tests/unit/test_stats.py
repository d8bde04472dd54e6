"""GET /api/v1/stats/me: a user's own usage, counted where the work was done."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.unit.conftest import register_and_login, wait_for_job


def test_usage_counts_syntheses_audio_voices_engines_and_jobs(make_client) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = make_client(syntheses_per_day=10)
    headers = register_and_login(client, "stats@example.com")
    durations = []
    for fmt in ("wav", "mp3"):
        made = client.post(
            "/api/v1/tts/synthesize",
            headers=headers,
            json={"text": "Counting what I said.", "config": {"output_format": fmt}},
        )
        durations.append(made.json()["data"]["duration"])
    job = client.post("/api/v1/job", headers=headers, json={"text_content": "And a job."})
    done = wait_for_job(client, headers, job.json()["data"]["id"])
    durations.append(done["duration"])

    stats = client.get("/api/v1/stats/me", headers=headers).json()["data"]
    assert stats["today"]["syntheses"] == 3 and stats["today"]["remaining"] == 7
    assert stats["today"]["quota"] == 10 and stats["today"]["resets_at"].endswith("Z")
    assert stats["this_minute"]["requests"] >= 4
    assert stats["audio"]["files"] == 3
    assert stats["audio"]["seconds"] == pytest.approx(sum(durations), abs=0.01)
    assert [(v["voice_id"], v["files"]) for v in stats["by_voice"]] == [("default_voice_001", 3)]
    assert [(e["engine"], e["files"]) for e in stats["by_engine"]] == [("piper", 3)]
    assert stats["jobs"] == {"synthesis": {"completed": 1}}

    other = register_and_login(client, "stats-other@example.com")
    theirs = client.get("/api/v1/stats/me", headers=other).json()["data"]
    assert theirs["today"]["syntheses"] == 0 and theirs["audio"]["files"] == 0
    assert theirs["by_voice"] == [] and theirs["jobs"] == {}
