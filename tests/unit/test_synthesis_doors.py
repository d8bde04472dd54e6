"""One synthesis service behind every door: the same rule answers the same way at each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.unit.conftest import register_and_login, wait_for_job
from tests.unit.test_api_bad_input import assert_error
from voxify.db.models import File, Job, RateCounter

IMPOSSIBLE = {"output_format": "mp3", "sample_rate": 9000}  # MPEG has no 9 kHz


def doors(text: str, options: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Each way in that synthesizes: (method, path, request) asking for ``options``."""
    config = {"config": options}
    fmt = options["output_format"]
    return {
        "sync": ("POST", "/api/v1/tts/synthesize", {"json": {"text": text, **config}}),
        "async": ("POST", "/api/v1/tts/synthesize/async", {"json": {"text": text, **config}}),
        "job": ("POST", "/api/v1/job", {"json": {"text_content": text, **options}}),
        "jobs": ("POST", "/api/v1/jobs", {"json": {"text_content": text, **options}}),
        "sse": (
            "GET",
            "/api/v1/tts/synthesize/stream",
            {"params": {"text": text, "format": fmt, "sample_rate": options["sample_rate"]}},
        ),
    }


def counts(client: TestClient) -> tuple[int, int, int]:
    """Files, jobs, and syntheses charged to any quota."""
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as session:
        charged = session.scalar(
            select(func.coalesce(func.sum(RateCounter.count), 0)).where(
                RateCounter.key.like("synth:%")
            )
        )
        return (
            int(session.scalar(select(func.count()).select_from(File))),
            int(session.scalar(select(func.count()).select_from(Job))),
            int(charged),
        )


@pytest.mark.parametrize("door", ["sync", "async", "job", "jobs", "sse"])
def test_an_impossible_combination_is_422_before_any_work(
    make_client: Callable[..., TestClient],
    door: str,
) -> None:
    client = make_client(syntheses_per_day=1)
    headers = register_and_login(client, f"{door}@example.com")
    method, path, request = doors("Hello there.", IMPOSSIBLE)[door]
    body = assert_error(
        client.request(method, path, headers=headers, **request), 422, "INCOMPATIBLE_OPTIONS"
    )
    assert "9000" in body["error"]["message"] and body["error"]["details"]["engine"] == "piper"
    assert counts(client) == (0, 0, 0)  # nothing rendered, stored, queued or charged
    # The one synthesis of the day is still there: the same door takes a possible request.
    method, path, request = doors("Hello there.", {"output_format": "mp3", "sample_rate": 8000})[
        door
    ]
    response = client.request(method, path, headers=headers, **request)
    assert response.status_code in (200, 201, 202), response.text


def test_a_pending_job_cannot_be_changed_into_an_impossible_one(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(run_jobs=False)  # the job stays pending
    headers = register_and_login(client, "edit@example.com")
    job = client.post(
        "/api/v1/job", headers=headers, json={"text_content": "Hello.", "output_format": "mp3"}
    )
    job_id = job.json()["data"]["id"]
    assert_error(
        client.put(f"/api/v1/job/{job_id}", headers=headers, json={"sample_rate": 9000}),
        422,
        "INCOMPATIBLE_OPTIONS",
    )
    assert_error(
        client.patch(f"/api/v1/job/{job_id}", headers=headers, json={"sample_rate": 11000}),
        422,
        "INCOMPATIBLE_OPTIONS",
    )
    unchanged = client.get(f"/api/v1/job/{job_id}", headers=headers).json()["data"]
    assert unchanged["sample_rate"] == 22050 and unchanged["status"] == "pending"
    assert (
        client.put(
            f"/api/v1/job/{job_id}", headers=headers, json={"sample_rate": 16000}
        ).status_code
        == 200
    )


def test_text_limits_belong_to_each_door(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_sync_text_chars=40, max_stream_text_chars=80, max_job_text_chars=120)
    headers = register_and_login(client, "limits@example.com")
    text = "word " * 15  # 74 characters once cleaned
    assert_error(
        client.post("/api/v1/tts/synthesize", headers=headers, json={"text": text}),
        400,
        "TEXT_TOO_LONG",
    )
    streamed = client.post("/api/v1/tts/stream", headers=headers, json={"text": text})
    assert streamed.status_code == 200 and len(streamed.content) > 44
    assert_error(
        client.post("/api/v1/job", headers=headers, json={"text_content": text * 2}),
        400,
        "TEXT_TOO_LONG",
    )
    assert (
        client.post("/api/v1/job", headers=headers, json={"text_content": text}).status_code == 201
    )


@pytest.mark.parametrize(
    ("fmt", "rate", "media_type"),
    [("opus", 24000, "audio/ogg; codecs=opus"), ("ulaw", 8000, "audio/basic")],
)
def test_jobs_render_the_new_formats_at_their_planned_rate(
    client: TestClient, fmt: str, rate: int, media_type: str
) -> None:
    headers = register_and_login(client, f"job-{fmt}@example.com")
    created = client.post(
        "/api/v1/job", headers=headers, json={"text_content": "Hello there.", "output_format": fmt}
    )
    assert created.status_code == 201, created.text
    job = created.json()["data"]
    assert job["sample_rate"] == rate  # planned at admission: the rate the format carries
    done = wait_for_job(client, headers, job["id"])
    assert done["status"] == "completed", done
    download = client.get(f"/api/v1/files/audio/{job['id']}", headers=headers)
    assert download.status_code == 200 and download.headers["content-type"] == media_type
    info = client.get(f"/api/v1/files/{done['output_file_id']}/info", headers=headers).json()
    assert info["data"]["sample_rate"] == rate and info["data"]["format"] == fmt


def test_changing_a_pending_jobs_format_plans_its_rate_again(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(run_jobs=False)
    headers = register_and_login(client, "job-replan@example.com")
    pending = client.post(
        "/api/v1/job", headers=headers, json={"text_content": "Again.", "output_format": "ulaw"}
    ).json()["data"]
    assert pending["sample_rate"] == 8000
    changed = client.put(
        f"/api/v1/job/{pending['id']}", headers=headers, json={"output_format": "mp3"}
    )
    assert changed.status_code == 200 and changed.json()["data"]["sample_rate"] == 22050
    refused = client.put(
        f"/api/v1/job/{pending['id']}",
        headers=headers,
        json={"output_format": "ulaw", "sample_rate": 16000},
    )
    assert_error(refused, 422, "INCOMPATIBLE_OPTIONS")
