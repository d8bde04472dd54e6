"""Voxify on a two-node Ray cluster on one machine (head + second node, separate processes),
with Postgres, an S3 server and a Chroma server: placement on both nodes, then failures.

The tests share the cluster and run in file order: the last one kills the second node.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from ray.util.state import list_actors, list_tasks
from sqlalchemy import create_engine, text

from tests.conftest import FIXTURES, POSTGRES_ADMIN_URL
from tests.integration.conftest import PASSWORD
from tests.multinode import Cluster, replicas, voxify_cluster, wait_for
from tests.speech import assert_real_speech

# Bounds are generous: on 2 shared cores a new Ray worker process can take a minute to start.
pytestmark = [pytest.mark.multinode, pytest.mark.postgres, pytest.mark.timeout(900)]

BUCKET = "voxify-multinode"
SAMPLE = FIXTURES / "speech" / "librivox_male_0870.wav"
SENTENCE = "Every node of the cluster speaks in the same voice, whichever one renders it."
# Long enough to be mid-render when something is killed: about 14 chunks of speech.
LONG_TEXT = " ".join(
    f"Paragraph {i} keeps a synthesizer busy for a while, so that a process can be killed "
    f"halfway through this piece of work."
    for i in range(40)
)
TERMINAL = ("completed", "failed", "cancelled")


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, postgres_available: bool
) -> Iterator[Cluster]:
    """Postgres database, S3 and Chroma servers, two Ray nodes, Voxify deployed on them."""
    if not postgres_available:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}")
        pytest.skip("PostgreSQL is not reachable")
    with voxify_cluster(tmp_path_factory.mktemp("multinode"), BUCKET) as started:
        yield started


@pytest.fixture(scope="module")
def auth(cluster: Cluster) -> dict[str, str]:
    with httpx.Client(base_url=cluster.url, timeout=60) as http:
        http.post(
            "/api/v1/auth/register",
            json={
                "email": "nodes@example.com",
                "password": PASSWORD,
                "first_name": "Multi",
                "last_name": "Node",
            },
        )
        login = http.post(
            "/api/v1/auth/login", json={"email": "nodes@example.com", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['data']['access_token']}"}


def _job_rows(cluster: Cluster, job_ids: list[str]) -> dict[str, dict[str, Any]]:
    engine = create_engine(cluster.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT id, status, attempts, runner_id, error_message, output_file_id "
                    "FROM jobs WHERE id = ANY(:ids)"
                ),
                {"ids": job_ids},
            )
            return {row.id: dict(row._mapping) for row in rows}
    finally:
        engine.dispose()


def _wait_jobs(
    cluster: Cluster, http: httpx.Client, auth: dict[str, str], job_ids: list[str], timeout: float
) -> dict[str, dict[str, Any]]:
    def ended() -> dict[str, dict[str, Any]] | None:
        jobs = {j: http.get(f"/api/v1/job/{j}", headers=auth).json()["data"] for j in job_ids}
        return jobs if all(job["status"] in TERMINAL for job in jobs.values()) else None

    try:
        result: dict[str, dict[str, Any]] = wait_for(ended, timeout, "every job ended", interval=1)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {_job_rows(cluster, job_ids)}") from None
    return result


def _submit(http: httpx.Client, auth: dict[str, str], text_content: str) -> str:
    response = http.post("/api/v1/job", headers=auth, json={"text_content": text_content})
    assert response.status_code in (200, 201, 202), response.text
    job_id: str = response.json()["data"]["id"]
    return job_id


def _finished_jobs(cluster: Cluster) -> list[Any]:
    """The state API's finished job tasks (their node_id is where they ran)."""
    filters = [("func_or_class_name", "=", "run_job"), ("state", "=", "FINISHED")]
    return list(list_tasks(address=cluster.dashboard_url, filters=filters, detail=True))


def _actors(cluster: Cluster, deployment: str) -> list[Any]:
    return [
        actor
        for actor in list_actors(
            address=cluster.dashboard_url, filters=[("state", "=", "ALIVE")], detail=True
        )
        if actor.class_name == f"ServeReplica:voxify:{deployment}"
    ]


def test_replicas_and_jobs_run_on_both_nodes(cluster: Cluster, auth: dict[str, str]) -> None:
    # Replicas: the ingress on the head, a Synthesizer on each node, two Embedders on node 2.
    placed = {
        name: sorted(actor.node_id for actor in _actors(cluster, name))
        for name in ("Ingress", "Synthesizer", "Embedder")
    }
    assert placed["Ingress"] == [cluster.head_id], placed
    assert sorted(placed["Synthesizer"]) == sorted([cluster.head_id, cluster.worker_id]), placed
    assert placed["Embedder"] == [cluster.worker_id, cluster.worker_id], placed
    wait_for(  # healthy as soon as one replica of each pool answers
        lambda: (
            [r["state"] for r in replicas(cluster.dashboard_url, "Embedder")]
            == ["RUNNING", "RUNNING"]
        ),
        60,
        "two running Embedder replicas",
    )

    with httpx.Client(base_url=cluster.url, timeout=60) as http:
        job_ids = [_submit(http, auth, f"{SENTENCE} Job {i}.") for i in range(4)]
        jobs = _wait_jobs(cluster, http, auth, job_ids, timeout=240)
        assert all(job["status"] == "completed" for job in jobs.values()), jobs
        rows = _job_rows(cluster, job_ids)
        # The runner id is node:task: the job tasks ran on the second node.
        runner_nodes = {row["runner_id"].split(":", 1)[0] for row in rows.values()}
        assert cluster.worker_id in runner_nodes, (runner_nodes, cluster.worker_id)
        tasks = wait_for(
            lambda: (found := _finished_jobs(cluster)) and len(found) >= len(job_ids) and found,
            30,
            "the job tasks in the state API",
        )
        task_nodes = {t.node_id for t in tasks}
        role = {cluster.head_id: "head", cluster.worker_id: "node2"}
        print(
            "placement:",
            {name: [role[n] for n in ids] for name, ids in placed.items()},
            "job tasks:",
            sorted(role[t.node_id] for t in tasks),
        )
        assert (
            task_nodes <= {cluster.head_id, cluster.worker_id} and cluster.worker_id in task_nodes
        )
        # Written on the second node, downloaded through the ingress on the head.
        for job_id, row in rows.items():
            if row["runner_id"].startswith(cluster.worker_id):
                audio = http.get(f"/api/v1/files/audio/{job_id}", headers=auth)
                assert audio.status_code == 200, audio.text
                assert_real_speech(audio.content, words=len(SENTENCE.split()) + 2)
                break
        objects = cluster.s3.list_objects_v2(Bucket=BUCKET, Prefix="voxify/")
        sizes = sorted(obj["Size"] for obj in objects.get("Contents", []))
        assert len(audio.content) in sizes, (len(audio.content), sizes)

        # A sample's voiceprint: the Embedder pool (2 replicas on node 2) writes it to Chroma.
        upload = http.post(
            "/api/v1/voice/samples",
            headers=auth,
            data={"name": "Nodes"},
            files={"file": ("nodes.wav", SAMPLE.read_bytes(), "audio/wav")},
        )
        assert upload.status_code in (200, 201), upload.text
        sample_id = upload.json()["data"]["sample_id"]
        http.post(f"/api/v1/voice/samples/{sample_id}/process", headers=auth)
        wait_for(
            lambda: (
                http.get(f"/api/v1/voice/samples/{sample_id}", headers=auth).json()["data"][
                    "status"
                ]
                in ("ready", "failed")
            ),
            120,
            "the sample processed",
        )
        sample = http.get(f"/api/v1/voice/samples/{sample_id}", headers=auth).json()["data"]
        assert sample["status"] == "ready", sample
        similar = http.get(f"/api/v1/voice/models?similar_to={sample_id}", headers=auth)
        assert similar.status_code == 200, similar.text
        assert similar.json()["data"], similar.json()


def _stream(url: str, auth: dict[str, str], outcome: dict[str, Any]) -> None:
    """Read an SSE stream to its end; record its events, or the error that ended it."""
    events: list[str] = []
    outcome["events"] = events
    try:
        with httpx.stream(
            "POST",
            f"{url}/api/v1/tts/stream",
            json={"text": LONG_TEXT[:4000]},
            headers={**auth, "Accept": "text/event-stream"},
            timeout=httpx.Timeout(60, read=60),
        ) as response:
            outcome["status"] = response.status_code
            for line in response.iter_lines():
                if line.startswith("data: "):
                    event = json.loads(line[6:])
                    events.append(event["type"])
                    outcome["code"] = event.get("code")
    except httpx.HTTPError as exc:
        outcome["error"] = repr(exc)


def test_synthesizer_replica_killed_mid_stream_and_mid_job(
    cluster: Cluster, auth: dict[str, str]
) -> None:
    before = {actor.actor_id: actor for actor in _actors(cluster, "Synthesizer")}
    assert len(before) == 2
    outcome: dict[str, Any] = {}
    with httpx.Client(base_url=cluster.url, timeout=60) as http:
        job_id = _submit(http, auth, LONG_TEXT)
        # The job first (its task may wait for a worker process), then the stream.
        wait_for(
            lambda: http.get(f"/api/v1/job/{job_id}", headers=auth).json()["data"]["progress"] > 10,
            180,
            "the job mid-way",
            interval=0.2,
        )
        reader = threading.Thread(target=_stream, args=(cluster.url, auth, outcome), daemon=True)
        reader.start()
        wait_for(
            lambda: outcome.get("events", []).count("audio_chunk") >= 1,
            60,
            "the stream's first audio",
            interval=0.1,
        )
        # Both replicas die (a crash: SIGKILL of the replica's worker process): whichever
        # served the stream and the job is gone.
        killed_at = time.monotonic()
        for actor in before.values():
            os.kill(actor.pid, 9)
        reader.join(timeout=90)
        assert not reader.is_alive(), "the stream hung after its replica died"
        stream_s = time.monotonic() - killed_at
        events = outcome["events"]
        assert "completed" not in events, outcome
        assert events[-1] == "error" or "error" in outcome, outcome
        if events[-1] == "error":  # the API's 503: retry shortly
            assert outcome["code"] == "SERVICE_UNAVAILABLE", outcome

        job = _wait_jobs(cluster, http, auth, [job_id], timeout=300)[job_id]
        assert job["status"] == "completed", job
        audio = http.get(f"/api/v1/files/audio/{job_id}", headers=auth)
        assert audio.status_code == 200
        assert_real_speech(audio.content, words=len(LONG_TEXT.split()))
        # Serve replaced both replicas.
        after = wait_for(
            lambda: (found := _actors(cluster, "Synthesizer")) and len(found) == 2 and found,
            60,
            "two Synthesizer replicas again",
        )
        assert not {actor.actor_id for actor in after} & set(before)
        print(f"stream ended {stream_s:.1f} s after the kill; job {job['attempts']} attempt(s)")


def test_second_node_lost_while_jobs_run_on_it(cluster: Cluster, auth: dict[str, str]) -> None:
    with httpx.Client(base_url=cluster.url, timeout=60) as http:
        job_ids = [_submit(http, auth, LONG_TEXT[: 900 + 100 * i]) for i in range(4)]

        def running_on_worker() -> list[str]:
            rows = _job_rows(cluster, job_ids)
            return [
                j
                for j, row in rows.items()
                if row["status"] == "processing"
                and (row["runner_id"] or "").startswith(cluster.worker_id)
            ]

        on_worker = wait_for(running_on_worker, 180, "jobs running on node 2", interval=0.2)
        killed_at = time.monotonic()
        cluster.worker.raylet().kill()
        jobs = _wait_jobs(cluster, http, auth, job_ids, timeout=300)
        recovered_s = time.monotonic() - killed_at
        rows = _job_rows(cluster, job_ids)
        for job in jobs.values():
            assert job["status"] in ("completed", "failed"), job
            if job["status"] == "failed":
                assert job["error_message"], job
        for job_id in on_worker:  # re-run on the head: the only node left
            assert rows[job_id]["attempts"] >= 2, rows[job_id]
            if rows[job_id]["status"] == "completed":
                assert rows[job_id]["runner_id"].startswith(cluster.head_id), rows[job_id]
        print(f"{len(on_worker)} job(s) on the lost node; all ended {recovered_s:.1f} s later")
