"""Operations on real Ray Serve: the admin view of the pools comes from Serve, runtime limits
hold on the deployed ingress, and Voxify's metrics reach Ray's metrics endpoint (from the
ingress and from job tasks) under the names the dashboard and alerts use."""

from __future__ import annotations

import re
import time

import httpx

from tests.integration.conftest import ADMIN_EMAIL, login


def ray_series(url: str, name: str, **labels: str) -> float:
    """The sum of Ray's exported series ``name`` whose labels include ``labels``."""
    text = httpx.get(url, timeout=10).text
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{re.escape(name)}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            total += float(match.group(2))
    return total


def test_admin_stats_config_and_ray_metrics(http: httpx.Client, ray_metrics_url: str) -> None:
    admin = login(http, ADMIN_EMAIL)
    user = login(http, "ops-user@example.com")

    stats = http.get("/api/v1/admin/stats", headers=admin)
    assert stats.status_code == 200, stats.text
    pools = {pool["name"]: pool for pool in stats.json()["data"]["pools"]}
    assert pools["Synthesizer"]["engine"] == "piper"
    assert pools["Synthesizer"]["running"] >= 1 and pools["Synthesizer"]["status"] == "HEALTHY"
    assert http.get("/api/v1/admin/stats", headers=user).status_code == 403

    traced = {**user, "X-Request-ID": "trace-ops-0001"}
    made = http.post("/api/v1/tts/synthesize", headers=traced, json={"text": "Counted by Ray."})
    assert made.status_code == 200, made.text
    assert made.headers.get_list("x-request-id") == ["trace-ops-0001"]
    job = http.post("/api/v1/job", headers=user, json={"text_content": "A job in a task."})
    job_id = job.json()["data"]["id"]
    deadline = time.monotonic() + 120
    while http.get(f"/api/v1/job/{job_id}", headers=user).json()["data"]["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.5)

    changed = http.put("/api/v1/admin/config", headers=admin, json={"max_sync_text_chars": 10})
    assert changed.status_code == 200, changed.text
    try:
        too_long = http.post("/api/v1/tts/synthesize", headers=user, json={"text": "x" * 11})
        assert too_long.status_code == 400, too_long.text
    finally:
        http.put("/api/v1/admin/config", headers=admin, json={"max_sync_text_chars": None})

    # Ray's agent exports what replicas and tasks recorded every few seconds.
    sync = {"engine": "piper", "door": "sync", "outcome": "ok"}
    deadline = time.monotonic() + 60
    while True:
        synced = ray_series(ray_metrics_url, "ray_voxify_syntheses_total", **sync)
        done = ray_series(
            ray_metrics_url,
            "ray_voxify_job_transitions_total",
            type="synthesis",
            status="completed",
        )
        if (synced >= 1 and done >= 1) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert synced >= 1, "the ingress's synthesis never reached Ray's metrics"
    assert done >= 1, "the job task's transition never reached Ray's metrics"
    assert ray_series(ray_metrics_url, "ray_voxify_http_requests_total", status="200") >= 1
