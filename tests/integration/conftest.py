"""Integration tier: one real Ray Serve instance for the whole session, spoken to over HTTP."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from voxify.cli import REPO_CONFIG

PASSWORD = "SecurePass123!"
JWT_SECRET = "integration-secret-0123456789abcdef-xyz"
ADMIN_EMAIL = "ops-admin@example.com"  # registers as the shared instance's administrator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def ray_metrics_port() -> int:
    """Where the shared Ray instance's metrics agent exports (Ray Serve's and Voxify's)."""
    return free_port()


@pytest.fixture(scope="session")
def ray_metrics_url(serve_url: str, ray_metrics_port: int) -> str:
    return f"http://127.0.0.1:{ray_metrics_port}/metrics"


@pytest.fixture(scope="session")
def grpc_port() -> int:
    """Where the shared instance's gRPC proxy listens (the gRPC door)."""
    return free_port()


@pytest.fixture(scope="session")
def serve_url(
    tmp_path_factory: pytest.TempPathFactory,
    chroma_server_url: str,
    grpc_port: int,
    ray_metrics_port: int,
) -> Iterator[str]:
    """The Voxify app deployed on a fresh local Ray cluster; torn down at the end.

    Vectors go to a real Chroma server (HttpClient); the unit tier covers the embedded one.
    Serve's gRPC proxy runs too, with the servicer serve_config.yaml names.
    """
    import ray
    from ray import serve

    from deployments.app import build_app
    from deployments.run import apply_serve_env

    data_dir: Path = tmp_path_factory.mktemp("serve-data")
    # 2 physical cores: logical CPUs let every pool (Kokoro too), job tasks and the XTTS tests
    # second app all schedule.
    apply_serve_env()  # before ray.init: the settings `voxify serve` runs with
    ray.init(
        address="local",
        num_cpus=10,
        include_dashboard=False,
        log_to_driver=False,
        _metrics_export_port=ray_metrics_port,
    )
    port = free_port()
    shipped = yaml.safe_load(REPO_CONFIG.read_text())["grpc_options"]
    serve.start(
        http_options={"host": "127.0.0.1", "port": port},
        grpc_options={**shipped, "port": grpc_port},
    )
    app = build_app(
        {
            "environment": "test",
            "data_dir": str(data_dir),
            "jwt_secret": JWT_SECRET,
            "job_stale_after_s": 5,
            "job_heartbeat_s": 1,
            "clone_search_s": 5,  # a few Kokoro style trials per clone
            "requests_per_minute": 100_000,  # tests poll jobs for minutes; limits have own tests
            "vector_url": chroma_server_url,
            "admin_emails": [ADMIN_EMAIL],
        }
    )
    serve.run(app, name="voxify", route_prefix="/")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while httpx.get(f"{url}/api/v1/health", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "service did not become healthy"
        time.sleep(0.5)
    yield url
    serve.delete("voxify")
    serve.shutdown()
    ray.shutdown()


@pytest.fixture
def http(serve_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=serve_url, timeout=120) as client:
        yield client


def login(http: httpx.Client, email: str) -> dict[str, str]:
    """Register and log in; returns the Authorization header."""
    http.post(
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "first_name": "John", "last_name": "Doe"},
    )
    response = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['data']['access_token']}"}
