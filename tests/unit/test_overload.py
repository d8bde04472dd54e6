"""An overloaded synthesis pool: 503 with Retry-After in the envelope, nothing stored or charged."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.unit.conftest import register_and_login
from tests.unit.test_api_bad_input import assert_error
from voxify.api.app import create_app
from voxify.api.context import Services
from voxify.db.models import File
from voxify.errors import Unavailable
from voxify.speech import Audio, Chunk, SynthesisRequest


class Overloaded:
    """The real synthesis behind a pool that refuses work while ``busy`` (as Ray's queue does)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.busy = True

    async def render(self, request: SynthesisRequest) -> Audio:
        if self.busy:
            raise Unavailable("The xtts pool is busy; retry shortly", retry_after=3)
        audio: Audio = await self.inner.render(request)
        return audio

    async def stream(self, request: SynthesisRequest) -> AsyncGenerator[Chunk, None]:
        if self.busy:
            raise Unavailable("The xtts pool is busy; retry shortly", retry_after=3)
        async for chunk in self.inner.stream(request):
            yield chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_an_overloaded_pool_answers_503_and_charges_nothing(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(syntheses_per_day=1)
    pool = Overloaded(services.synthesis)
    client = TestClient(create_app(services.with_synthesis(pool)))
    headers = register_and_login(client, "busy@example.com")
    refused = [
        client.post("/api/v1/tts/synthesize", headers=headers, json={"text": "Hello there."}),
        client.post("/api/v1/tts/stream", headers=headers, json={"text": "Hello there."}),
        client.get(
            "/api/v1/tts/synthesize/stream", headers=headers, params={"text": "Hello there."}
        ),
    ]
    for response in refused:
        assert_error(response, 503, "SERVICE_UNAVAILABLE")
        assert response.headers["Retry-After"] == "3"
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(File)) == 0
    # A quota of one synthesis a day, three refusals: the refused ones were not charged.
    pool.busy = False
    served = client.post("/api/v1/tts/synthesize", headers=headers, json={"text": "Hello there."})
    assert served.status_code == 200, served.text
    assert_error(
        client.post("/api/v1/tts/synthesize", headers=headers, json={"text": "Again."}),
        429,
        "QUOTA_EXCEEDED",
    )


def test_a_database_outage_answers_503_with_retry_after(
    client: TestClient, monkeypatch: Any
) -> None:
    from sqlalchemy.exc import OperationalError

    import voxify.api.deps as deps

    headers = register_and_login(client, "outage@example.com")

    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(deps, "authenticate_credential", unreachable)
    answer = client.get("/api/v1/job", headers=headers)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert "connection refused" not in answer.text  # the driver's words stay in the log
    monkeypatch.undo()
    assert client.get("/api/v1/job", headers=headers).status_code == 200
