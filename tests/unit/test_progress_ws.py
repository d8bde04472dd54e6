"""WebSocket job progress: a browser's way in (token in the URL or subprotocol), owner-only,
closing with the final status; and the history's voice and date filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.unit.conftest import register_and_login


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def _job(client: TestClient, headers: dict[str, str], text: str = "Hello over a socket.") -> str:
    created = client.post("/api/v1/job", headers=headers, json={"text_content": text})
    assert created.status_code == 201, created.text
    job_id: str = created.json()["data"]["id"]
    return job_id


def _follow(socket: Any) -> tuple[list[dict[str, Any]], int, str]:
    events: list[dict[str, Any]] = []
    while True:
        try:
            events.append(socket.receive_json())
        except WebSocketDisconnect as closed:
            return events, closed.code, closed.reason


def test_progress_over_a_websocket_until_the_end(client: TestClient) -> None:
    headers = register_and_login(client, "ws@example.com")
    job_id = _job(client, headers)
    url = f"/api/v1/jobs/{job_id}/progress/ws?token={_token(headers)}"
    with client.websocket_connect(url) as socket:
        events, code, reason = _follow(socket)
    assert code == 1000 and reason == "completed"
    assert events[-1]["status"] == "completed" and events[-1]["progress"] == 100.0
    assert [e["progress"] for e in events] == sorted(e["progress"] for e in events)


def test_subprotocol_token_and_api_key(client: TestClient) -> None:
    headers = register_and_login(client, "ws-key@example.com")
    key = client.post("/api/v1/auth/api-keys", json={"name": "ws"}, headers=headers)
    job_id = _job(client, headers)
    with client.websocket_connect(
        f"/api/v1/job/{job_id}/progress/ws", subprotocols=["voxify", key.json()["data"]["key"]]
    ) as socket:
        assert socket.accepted_subprotocol == "voxify"
        events, code, _ = _follow(socket)
    assert code == 1000 and events[-1]["status"] == "completed"


@pytest.mark.parametrize("case", ["no token", "bad token", "another user's job", "no such job"])
def test_refusals_close_with_a_reason(client: TestClient, case: str) -> None:
    owner = register_and_login(client, "ws-owner@example.com")
    other = register_and_login(client, "ws-other@example.com")
    job_id = _job(client, owner)
    query, expected = {
        "no token": ("", 4401),
        "bad token": ("?token=not-a-token", 4401),
        "another user's job": (f"?token={_token(other)}", 4404),
        "no such job": (f"?token={_token(owner)}", 4404),
    }[case]
    target = "job_00000000000000000000" if case == "no such job" else job_id
    with client.websocket_connect(f"/api/v1/jobs/{target}/progress/ws{query}") as socket:
        events, code, reason = _follow(socket)
    assert events == [] and code == expected and reason


def test_history_filters_by_voice_and_date(client: TestClient) -> None:
    headers = register_and_login(client, "history@example.com")
    job_id = _job(client, headers, "A remembered sentence.")
    now = datetime.now(UTC)

    def ids(**params: str) -> list[str]:
        response = client.get("/api/v1/job", headers=headers, params=params)
        assert response.status_code == 200, response.text
        return [job["id"] for job in response.json()["data"]]

    hour = timedelta(hours=1)
    assert ids(voice_model_id="default_voice_001") == [job_id]
    assert ids(voice_model_id="some_other_voice") == []
    assert ids(created_after=(now - hour).isoformat()) == [job_id]
    assert ids(created_after=(now + hour).isoformat()) == []
    assert ids(created_before=(now - hour).isoformat()) == []
    assert ids(created_after=(now - hour).isoformat(), created_before=(now + hour).isoformat()) == [
        job_id
    ]
    refused = client.get(
        "/api/v1/job",
        headers=headers,
        params={"created_after": now.isoformat(), "created_before": (now - hour).isoformat()},
    )
    assert refused.status_code == 400
    naive = client.get("/api/v1/job", headers=headers, params={"created_after": "2026-01-01T00:00"})
    assert naive.status_code == 422  # a time without a zone is ambiguous
