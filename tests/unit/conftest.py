"""Unit tier: no Ray. The real API runs in-process on the real Piper engine."""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select

from voxify.api.app import create_app
from voxify.api.context import Services
from voxify.config import Settings
from voxify.db.migrate import upgrade
from voxify.db.models import User, VoiceClone
from voxify.db.session import session_scope
from voxify.embeddings.encoder import SpeakerEncoder
from voxify.engines.conversion import ConversionParams
from voxify.engines.conversion_fit import BANDS, pack_symmetric
from voxify.engines.kokoro import KokoroEngine
from voxify.engines.piper import PiperEngine
from voxify.ids import new_id
from voxify.inprocess import ThreadLauncher, build_inprocess
from voxify.status import CloneStatus

PASSWORD = "SecurePass123!"
# VITS draws noise inside its ONNX graph (RandomNormalLike, no seed attribute), and onnxruntime
# seeds those kernels from its global seed when a session is built. Engines built after setting
# it speak the same in every run of the same tests; bounds on that speech are still measured over
# many seeds, since other tests before a fixture (or job threads) change which draws it gets.
PIPER_SEED = 2024


@pytest.fixture(autouse=True)
def _no_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests must not need Ray: starting it fails loudly."""
    import ray

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("unit tests must not start Ray")

    monkeypatch.setattr(ray, "init", refuse)


def seeded_piper(**options: Any) -> PiperEngine:
    """The shipped Piper voice with its sampling noise seeded (PIPER_SEED)."""
    ort.set_seed(PIPER_SEED)
    return PiperEngine(**options)


@pytest.fixture(scope="session")
def piper() -> PiperEngine:
    """The shipped Piper voice, loaded once, its noise seeded."""
    return seeded_piper()


@pytest.fixture(scope="session")
def kokoro() -> KokoroEngine:
    """Kokoro-82M over the files `voxify setup` put in place, one ONNX session for the run."""
    engine = KokoroEngine.open(Settings().kokoro_dir)
    assert engine is not None, "Kokoro's files are missing: run `voxify setup`"
    return engine


@pytest.fixture(scope="session")
def speaker_encoder() -> SpeakerEncoder:
    """resemblyzer's encoder (its weights ship in the package), loaded once."""
    # One torch thread: with two, embeddings on two busy cores stalled (oversubscription).
    return SpeakerEncoder(threads=1)


@pytest.fixture
def make_services(
    make_settings: Callable[..., Settings],
    piper: PiperEngine,
    kokoro: KokoroEngine,
    speaker_encoder: SpeakerEncoder,
) -> Iterator[Callable[..., Services]]:
    """Services on SQLite and local blobs with in-process synthesis and job threads."""
    built: list[Services] = []

    def make(run_jobs: bool = True, **overrides: Any) -> Services:
        # Tests poll jobs and clones several times a second, for a minute on a slow machine:
        # above the default 100 requests a minute. Rate-limit tests set their own limit.
        settings = make_settings(**{"requests_per_minute": 100_000, **overrides})
        upgrade(settings.database_url)
        services = build_inprocess(
            settings,
            piper=piper,
            kokoro=kokoro,
            encoder=speaker_encoder,
            launcher=ThreadLauncher if run_jobs else HeldLauncher,
            heartbeat_s=0.2,
        )
        built.append(services)
        return services

    yield make
    for services in built:
        if isinstance(services.launcher, ThreadLauncher):
            services.launcher.shutdown()


class HeldLauncher:
    """A launcher that never runs anything: jobs stay pending, as behind a busy pool."""

    def __init__(self, runner: object = None) -> None:
        self.launched: list[str] = []

    def launch(self, job_id: str) -> None:
        self.launched.append(job_id)

    def is_runner_alive(self, runner_id: str) -> bool:
        return False

    def check(self) -> str:
        return "ok"


@pytest.fixture
def make_client(make_services: Callable[..., Services]) -> Callable[..., TestClient]:
    """An HTTP client for an in-process app built with overridden settings."""

    def make(run_jobs: bool = True, **overrides: Any) -> TestClient:
        return TestClient(create_app(make_services(run_jobs, **overrides)))

    return make


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def register_and_login(client: TestClient, email: str) -> dict[str, str]:
    """Register ``email`` and return its Authorization header."""
    response = client.post(
        "/api/v1/auth/register",
        json={
            "email": email,
            "password": PASSWORD,
            "first_name": "Test",
            "last_name": "User",
        },
    )
    assert response.status_code == 201, response.text
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['data']['access_token']}"}


def wait_for_job(
    client: TestClient, headers: dict[str, str], job_id: str, timeout: float = 60
) -> dict[str, Any]:
    """Poll until the job ends; return its final JSON."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/api/v1/job/{job_id}", headers=headers)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()["data"]
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def add_ready_clone(client: TestClient, email: str) -> str:
    """A ready CPU clone row of ``email``'s user with neutral conversion parameters."""
    params = neutral_conversion()
    services = client.app.state.services  # type: ignore[attr-defined]

    clone_id = new_id("vc")
    with session_scope(services.sessions) as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None
        session.add(
            VoiceClone(
                id=clone_id,
                user_id=user.id,
                name="Mine",
                status=CloneStatus.READY,
                conversion=params.to_dict(),
            )
        )
    return clone_id


def neutral_conversion() -> ConversionParams:
    """Clone parameters that only raise the pitch: the spectrum passes through unchanged."""
    return ConversionParams(
        warp=1.0,
        f0_source=(math.log(110.0), 0.15),
        f0_target=(math.log(180.0), 0.15),
        centre=(0.0,) * BANDS,
        voiced_map=tuple(pack_symmetric(np.eye(BANDS))),
        voiced_shift=(0.0,) * BANDS,
        unvoiced_shift=(0.0,) * BANDS,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_over_loopback(services: Services) -> Iterator[str]:
    """The app on a real HTTP server (uvicorn in a thread of this process); yields its URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
