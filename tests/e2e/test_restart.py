"""Stop the whole service in the middle of a job, start it again: nothing is lost or stuck."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from tests.conftest import FIXTURES
from tests.integration.conftest import PASSWORD, free_port
from tests.speech import assert_real_speech
from voxify.grpc import voxify_pb2 as pb
from voxify.grpc.voxify_pb2_grpc import VoxifyStub

SAMPLE = FIXTURES / "speech" / "librivox_male_0870.wav"
LONG_TEXT = " ".join(
    f"Paragraph {i} keeps the synthesizer busy for a while, so that the service can be "
    f"stopped halfway through this job."
    for i in range(40)
)


class Service:
    """`voxify serve` in its own process group, as a user would run it."""

    def __init__(self, data_dir: Path, port: int, grpc_port: int, log: Path) -> None:
        env = {
            **os.environ,
            "VOXIFY_JOB_STALE_AFTER_S": "5",
            "VOXIFY_JOB_HEARTBEAT_S": "1",
            "VOXIFY_JWT_SECRET": "restart-test-secret-0123456789abcdef-xyz",
            # Piper alone: the Kokoro pool's start adds a minute per start on 2 cores and
            # nothing to what is tested here (the integration tier serves Kokoro on Ray).
            "VOXIFY_KOKORO_DIR": str(data_dir.parent / "no-kokoro"),
        }
        env.pop("RAY_ADDRESS", None)
        self.url = f"http://127.0.0.1:{port}"
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "voxify"),
                "serve",
                "--port",
                str(port),
                "--grpc-port",
                str(grpc_port),
                "--data-dir",
                str(data_dir),
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # A shell runs background commands with SIGINT ignored, and children inherit that:
            # under `nohup … &` Ctrl-C would never reach `serve run`. A terminal's user has it.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )

    def wait_healthy(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "voxify serve exited during startup"
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise AssertionError("service did not become healthy")

    def stop(self) -> None:
        """Ctrl-C, as a user stops it; force only if it hangs."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self._log.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[list[Service]]:
    started: list[Service] = []
    yield started
    for service in started:
        service.stop()


def job_row(data_dir: Path, job_id: str) -> dict[str, Any]:
    with sqlite3.connect(data_dir / "voxify.db") as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return dict(row)


def test_restart_mid_job_recovers_everything(
    tmp_path: Path, data_dir: Path, services: list[Service]
) -> None:
    port, grpc_port = free_port(), free_port()
    first = Service(data_dir, port, grpc_port, tmp_path / "serve.log")
    services.append(first)
    first.wait_healthy()
    with httpx.Client(base_url=first.url, timeout=60) as http:
        http.post(
            "/api/v1/auth/register",
            json={
                "email": "keep@example.com",
                "password": PASSWORD,
                "first_name": "Keep",
                "last_name": "Me",
            },
        )
        token = http.post(
            "/api/v1/auth/login", json={"email": "keep@example.com", "password": PASSWORD}
        ).json()["data"]
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        done = http.post(
            "/api/v1/job", headers=auth, json={"text_content": "Finished before the restart."}
        ).json()["data"]
        deadline = time.monotonic() + 60
        while (
            http.get(f"/api/v1/job/{done['id']}", headers=auth).json()["data"]["status"]
            != "completed"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.3)
        sample = http.post(
            "/api/v1/voice/samples",
            headers=auth,
            data={"name": "Kept"},
            files={"file": ("kept.wav", SAMPLE.read_bytes(), "audio/wav")},
        )
        sample_id = sample.json()["data"]["sample_id"]
        http.post(f"/api/v1/voice/samples/{sample_id}/process", headers=auth)
        deadline = time.monotonic() + 120
        while (
            http.get(f"/api/v1/voice/samples/{sample_id}", headers=auth).json()["data"]["status"]
            != "ready"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.3)
        long_job = http.post("/api/v1/job", headers=auth, json={"text_content": LONG_TEXT}).json()[
            "data"
        ]
        deadline = time.monotonic() + 60
        while True:
            job = http.get(f"/api/v1/job/{long_job['id']}", headers=auth).json()["data"]
            if job["status"] == "processing" and job["progress"] > 10:
                break
            assert job["status"] in ("pending", "processing"), job
            assert time.monotonic() < deadline, job
            time.sleep(0.2)

    first.stop()  # mid-job
    interrupted = job_row(data_dir, long_job["id"])
    assert interrupted["status"] == "processing" and interrupted["progress"] < 100

    second = Service(data_dir, port, grpc_port, tmp_path / "serve.log")
    services.append(second)
    second.wait_healthy()
    with httpx.Client(base_url=second.url, timeout=60) as http:
        relogin = http.post(
            "/api/v1/auth/login", json={"email": "keep@example.com", "password": PASSWORD}
        )
        assert relogin.status_code == 200  # the user survived
        auth = {"Authorization": f"Bearer {relogin.json()['data']['access_token']}"}
        # the old token is still valid too: the secret is configuration, not process state
        assert (
            http.get(
                "/api/v1/job", headers={"Authorization": f"Bearer {token['access_token']}"}
            ).status_code
            == 200
        )
        kept = http.get(f"/api/v1/voice/samples/{sample_id}", headers=auth).json()["data"]
        assert kept["status"] == "ready" and kept["quality_score"] > 5  # the sample survived
        similar = http.get(f"/api/v1/voice/models?similar_to={sample_id}", headers=auth)
        assert similar.status_code == 200, similar.text  # so did its vector (embedded Chroma)
        assert similar.json()["data"][0]["voice_model_id"] == "default_voice_001"
        # `voxify serve` serves the gRPC door too, over the same data.
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            finished = VoxifyStub(channel).GetJob(
                pb.GetJobRequest(job_id=done["id"]),
                metadata=[("authorization", auth["Authorization"])],
                timeout=60,
            )
        assert finished.status == "completed" and finished.duration > 0.5
        before = http.get(f"/api/v1/files/audio/{done['id']}", headers=auth)
        assert before.status_code == 200  # the file survived
        assert_real_speech(before.content, words=4)
        deadline = time.monotonic() + 240
        while True:
            job = http.get(f"/api/v1/job/{long_job['id']}", headers=auth).json()["data"]
            if job["status"] in ("completed", "failed", "cancelled"):
                break
            assert time.monotonic() < deadline, f"interrupted job stuck: {job}"
            time.sleep(0.5)
        assert job["status"] == "completed", job
        assert job["attempts"] == 2  # re-queued once, then run to the end
        audio = http.get(f"/api/v1/files/audio/{long_job['id']}", headers=auth)
        assert_real_speech(audio.content, words=len(LONG_TEXT.split()))
