"""What operators see: /metrics moves by exactly what the traffic did; every request and job
transition writes one JSON line with its request id; nothing secret or spoken is logged."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.unit.conftest import PASSWORD, register_and_login, wait_for_job
from tests.unit.test_overload import Overloaded
from voxify.api.app import create_app
from voxify.api.context import Services
from voxify.observability.logs import JsonFormatter

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: TestClient) -> Samples:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much the series ``name{labels}`` grew (labels not given are summed over)."""

    def total(samples: Samples) -> float:
        return sum(
            value
            for (sample, sample_labels), value in samples.items()
            if sample == name and set(labels.items()) <= set(sample_labels)
        )

    return total(after) - total(before)


def test_metrics_move_by_what_the_traffic_did(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(syntheses_per_day=4)
    pool = Overloaded(services.synthesis)
    client = TestClient(create_app(services.with_synthesis(pool)))
    headers = register_and_login(client, "metrics@example.com")
    before = scrape(client)
    shed = client.post("/api/v1/tts/synthesize", headers=headers, json={"text": "Refused."})
    assert shed.status_code == 503  # and the quota it charged is given back
    pool.busy = False

    durations = []
    for text in ("One sentence to count.", "And another one."):
        made = client.post("/api/v1/tts/synthesize", headers=headers, json={"text": text})
        durations.append(made.json()["data"]["duration"])
    streamed = client.get(
        "/api/v1/tts/synthesize/stream", headers=headers, params={"text": "Streamed words."}
    )
    assert streamed.status_code == 200 and len(streamed.content) > 1000
    job = client.post("/api/v1/job", headers=headers, json={"text_content": "A job to count."})
    done = wait_for_job(client, headers, job.json()["data"]["id"])
    over = client.post("/api/v1/tts/synthesize", headers=headers, json={"text": "Over quota."})
    assert over.status_code == 429  # 4 a day: two sync, one stream, one job
    after = scrape(client)

    ok = {"engine": "piper", "outcome": "ok"}
    assert moved(before, after, "voxify_syntheses_total", door="sync", **ok) == 2
    assert moved(before, after, "voxify_syntheses_total", door="stream", **ok) == 1
    assert moved(before, after, "voxify_syntheses_total", door="job", **ok) == 1
    assert moved(before, after, "voxify_syntheses_total", outcome="error") == 0
    sync_seconds = moved(before, after, "voxify_synthesis_audio_seconds_total", door="sync")
    assert sync_seconds == pytest.approx(sum(durations), abs=0.002)
    job_seconds = moved(before, after, "voxify_synthesis_audio_seconds_total", door="job")
    assert job_seconds == pytest.approx(done["duration"], abs=0.002)
    assert moved(before, after, "voxify_synthesis_rtf_count", engine="piper") == 3
    rtf_sum = moved(before, after, "voxify_synthesis_rtf_sum", engine="piper")
    assert 0 < rtf_sum < 3 * 5  # a few renders, each well under 5x real time on any machine
    assert moved(before, after, "voxify_stream_first_audio_seconds_count", engine="piper") == 1
    assert moved(before, after, "voxify_pool_sheds_total", pool="piper") == 1
    assert moved(before, after, "voxify_limit_rejections_total", limit="syntheses_per_day") == 1
    for status in ("pending", "processing", "completed"):
        assert (
            moved(before, after, "voxify_job_transitions_total", type="synthesis", status=status)
            == 1
        )
    assert moved(before, after, "voxify_job_queue_wait_seconds_count", type="synthesis") == 1
    assert after[("voxify_jobs", (("status", "completed"), ("type", "synthesis")))] == 1
    assert after[("voxify_jobs", (("status", "pending"), ("type", "synthesis")))] == 0
    route = {"method": "POST", "route": "/api/v1/tts/synthesize"}
    assert moved(before, after, "voxify_http_requests_total", status="200", **route) == 2
    assert moved(before, after, "voxify_http_requests_total", status="503", **route) == 1
    assert moved(before, after, "voxify_http_requests_total", status="429", **route) == 1
    assert moved(before, after, "voxify_http_request_seconds_count", **route) == 4


def test_requests_and_jobs_log_json_lines_tied_by_one_request_id(
    make_client: Callable[..., TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client()
    headers = register_and_login(client, "logs@example.com")
    secret_text = "The secret launch code is pumpernickel."
    caplog.set_level(logging.INFO, logger="voxify")
    answer = client.post(
        "/api/v1/job",
        headers={**headers, "X-Request-ID": "trace-0123456789"},
        json={"text_content": secret_text},
    )
    assert answer.headers["x-request-id"] == "trace-0123456789"
    wait_for_job(client, headers, answer.json()["data"]["id"])
    client.post("/api/v1/auth/login", json={"email": "logs@example.com", "password": PASSWORD})
    refused = client.get("/api/v1/job", headers={"X-Request-ID": "bad id with spaces"})
    assert refused.status_code == 401 and refused.headers["x-request-id"].startswith("req_")

    lines = [json.loads(JsonFormatter().format(record)) for record in caplog.records]
    ours = [line for line in lines if line["request_id"] == "trace-0123456789"]
    events = [(line["event"], line.get("status")) for line in ours]
    assert ("http.request", 201) in events
    assert [s for e, s in events if e == "job.transition"] == ["pending", "processing", "completed"]
    request = next(line for line in ours if line["event"] == "http.request")
    assert request["route"] == "/api/v1/job" and request["method"] == "POST"
    assert request["user_id"].startswith("usr_") and request["total_ms"] >= 0

    written = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    access_token = headers["Authorization"].split()[1]
    for secret in (secret_text, "pumpernickel", PASSWORD, access_token):
        assert secret not in written
