"""Locust scenario for Voxify through the public HTTP API only (no project imports)."""

# Importing ray (or anything that pulls in the service's deployments) next to gevent's
# monkey-patching breaks both, so this file talks HTTP and nothing else.

from __future__ import annotations

import random
import time
import uuid
from typing import Any, ClassVar, TypedDict

from locust import HttpUser, LoadTestShape, between, task
from locust.exception import StopUser

PASSWORD = "SecurePass123!"
VOICE_ID = "default_voice_001"
JOB_POLL_S = 0.5
JOB_TIMEOUT_S = 60.0
MAX_TOTAL_S = 60
MAX_USERS = 8

TEXTS = (
    "The old lighthouse keeper climbed the spiral stairs every evening to light the lamp "
    "that guided ships safely home.",
    "Fresh bread from the corner bakery fills the whole street with a warm smell long before "
    "the shops open.",
    "After three days of heavy rain, the river finally burst its banks and flooded the low "
    "fields near the village.",
    "Please remember to water the tomato plants on the balcony twice a week while we are "
    "away on holiday.",
)


class Stage(TypedDict):
    """One ramp stage: until `duration` seconds into the run, aim for `users` users."""

    duration: float
    users: int
    spawn_rate: float


class VoxifyUser(HttpUser):
    """One account: sync synthesis + download, a background job end to end, job listings."""

    wait_time = between(1.0, 2.0)

    def on_start(self) -> None:
        """Register a fresh account and log in, so per-user limits never collide."""
        email = f"locust-{uuid.uuid4().hex[:16]}@example.com"
        account = {"email": email, "password": PASSWORD, "first_name": "Load", "last_name": "Test"}
        if (
            self._call(
                "POST", "/api/v1/auth/register", name="auth/register", json=account, expect=201
            )
            is None
        ):
            raise StopUser()
        tokens = self._call(
            "POST",
            "/api/v1/auth/login",
            name="auth/login",
            json={"email": email, "password": PASSWORD},
        )
        if not isinstance(tokens, dict) or "access_token" not in tokens:
            raise StopUser()
        self.client.headers["Authorization"] = f"Bearer {tokens['access_token']}"

    @task(3)
    def synthesize_and_download(self) -> None:
        """Synchronous synthesis, then fetch the WAV it produced."""
        body = {
            "text": random.choice(TEXTS),
            "voice_id": VOICE_ID,
            "config": {"output_format": "wav"},
        }
        data = self._call("POST", "/api/v1/tts/synthesize", name="tts/synthesize", json=body)
        if isinstance(data, dict):
            self._download(data["audio_path"], name="files/audio/[file_id]")

    @task(1)
    def job_until_completed(self) -> None:
        """Create a background job, poll it until it is done, then download its audio."""
        started = time.perf_counter()
        body = {"text_content": random.choice(TEXTS), "voice_model_id": VOICE_ID}
        job = self._call("POST", "/api/v1/job", name="job [create]", json=body, expect=201)
        if not isinstance(job, dict):
            return
        job_id = job["id"]
        status = job["status"]
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while status not in ("completed", "failed", "cancelled"):
            if time.monotonic() > deadline:
                self._job_outcome(started, f"job {job_id} still {status} after {JOB_TIMEOUT_S} s")
                return
            time.sleep(JOB_POLL_S)  # gevent-patched: yields to other users
            polled = self._call("GET", f"/api/v1/job/{job_id}", name="job [poll]")
            if not isinstance(polled, dict):
                return
            status = polled["status"]
        if status != "completed":
            self._job_outcome(started, f"job {job_id} ended {status}")
            return
        # Completion time is recorded as its own entry: create -> completed, polling included.
        self._job_outcome(started, None)
        self._download(f"/api/v1/files/audio/{job_id}", name="files/audio/[job_id]")

    @task(1)
    def list_jobs(self) -> None:
        """First page of the user's jobs."""
        self._call("GET", "/api/v1/job?limit=20", name="job [list]")

    def _call(
        self, method: str, path: str, *, name: str, json: Any = None, expect: int = 200
    ) -> Any:
        """One API call checked for status and envelope; returns `data`, or None on failure."""
        with self.client.request(
            method, path, name=name, json=json, catch_response=True
        ) as response:
            if response.status_code != expect:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                return None
            try:
                envelope = response.json()
            except ValueError:
                response.failure("response is not JSON")
                return None
            if not envelope.get("success"):
                response.failure(f"envelope reports failure: {envelope.get('error')}")
                return None
            response.success()
            return envelope.get("data")

    def _download(self, path: str, *, name: str) -> None:
        """Fetch a WAV and check that it is one."""
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
            elif not response.content.startswith(b"RIFF"):
                response.failure("downloaded audio is not a WAV file")
            else:
                response.success()

    def _job_outcome(self, started: float, error: str | None) -> None:
        """Record a job's create-to-completed time as a pseudo request named `job [done]`."""
        self.environment.events.request.fire(
            request_type="JOB",
            name="job [done]",
            response_time=(time.perf_counter() - started) * 1000.0,
            response_length=0,
            exception=RuntimeError(error) if error else None,
            context={},
        )


class StagesShape(LoadTestShape):
    """Ramp through STAGES (cumulative end times), then stop the run."""

    STAGES: ClassVar[list[Stage]] = [
        {"duration": 10, "users": 2, "spawn_rate": 1},
        {"duration": 25, "users": 4, "spawn_rate": 1},
        {"duration": 55, "users": 8, "spawn_rate": 2},
    ]

    def tick(self) -> tuple[int, float] | None:
        """Users and spawn rate for the current stage; None once the last stage is over."""
        run_time = self.get_run_time()
        for stage in self.STAGES:
            if run_time < stage["duration"]:
                return stage["users"], stage["spawn_rate"]
        return None


def _check_stages(stages: list[Stage]) -> None:
    """Keep the scenario bounded: increasing end times within MAX_TOTAL_S, <= MAX_USERS users."""
    ends = [stage["duration"] for stage in stages]
    if not stages or ends != sorted(ends) or ends[-1] > MAX_TOTAL_S:
        raise ValueError(f"stage end times must increase and stay within {MAX_TOTAL_S} s")
    if any(not 0 < stage["users"] <= MAX_USERS for stage in stages):
        raise ValueError(f"each stage needs 1..{MAX_USERS} users")


_check_stages(StagesShape.STAGES)
