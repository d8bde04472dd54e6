"""Every bad input answers a 4xx envelope with a stable code, and writes nothing."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.unit.conftest import PASSWORD, register_and_login
from voxify.db.models import Job, User

SECRET = "test-secret-0123456789abcdef-0123456789"


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is False and body["data"] is None
    assert body["error"]["code"] == code, body
    assert body["error"]["message"] and body["timestamp"]
    return body


def job_count(client: TestClient) -> int:
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Job)))


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        (
            {"email": "not-an-email", "password": PASSWORD, "first_name": "A", "last_name": "B"},
            422,
            "VALIDATION_ERROR",
        ),
        (
            {
                "email": "weak@example.com",
                "password": "password",
                "first_name": "A",
                "last_name": "B",
            },
            422,
            "VALIDATION_ERROR",
        ),
        (
            {"email": "short@example.com", "password": "Ab1!", "first_name": "A", "last_name": "B"},
            422,
            "VALIDATION_ERROR",
        ),
        ({"email": "noname@example.com", "password": PASSWORD}, 422, "VALIDATION_ERROR"),
        (
            {
                "email": "ctrl@example.com",
                "password": PASSWORD,
                "first_name": "\u0000",
                "last_name": "B",
            },
            422,
            "VALIDATION_ERROR",
        ),
        (
            {
                "email": "extra@example.com",
                "password": PASSWORD,
                "first_name": "A",
                "last_name": "B",
                "role": "admin",
            },
            422,
            "VALIDATION_ERROR",
        ),
    ],
)
def test_register_rejects(
    client: TestClient, payload: dict[str, Any], status: int, code: str
) -> None:
    assert_error(client.post("/api/v1/auth/register", json=payload), status, code)
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_duplicate_email_and_bad_login(client: TestClient) -> None:
    register_and_login(client, "dup@example.com")
    again = client.post(
        "/api/v1/auth/register",
        json={
            "email": "DUP@example.com",
            "password": PASSWORD,
            "first_name": "A",
            "last_name": "B",
        },
    )
    assert_error(again, 409, "EMAIL_TAKEN")
    wrong = client.post(
        "/api/v1/auth/login", json={"email": "dup@example.com", "password": "WrongPass123!"}
    )
    assert_error(wrong, 401, "INVALID_CREDENTIALS")
    unknown = client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )
    assert_error(unknown, 401, "INVALID_CREDENTIALS")


def test_tokens_missing_forged_expired_wrong_kind(client: TestClient) -> None:
    headers = register_and_login(client, "tok@example.com")
    login = client.post(
        "/api/v1/auth/login", json={"email": "tok@example.com", "password": PASSWORD}
    ).json()["data"]
    user_id = login["user"]["user_id"]
    assert_error(client.get("/api/v1/job"), 401, "UNAUTHORIZED")
    assert_error(
        client.get("/api/v1/job", headers={"Authorization": "Basic abc"}), 401, "UNAUTHORIZED"
    )
    forged = jwt.encode(
        {"sub": user_id, "typ": "access", "exp": int(time.time()) + 60},
        "some-other-secret-of-enough-length-1234",
        algorithm="HS256",
    )
    assert_error(
        client.get("/api/v1/job", headers={"Authorization": f"Bearer {forged}"}),
        401,
        "INVALID_TOKEN",
    )
    expired = jwt.encode(
        {"sub": user_id, "typ": "access", "exp": int(time.time()) - 10}, SECRET, algorithm="HS256"
    )
    assert_error(
        client.get("/api/v1/job", headers={"Authorization": f"Bearer {expired}"}),
        401,
        "TOKEN_EXPIRED",
    )
    refresh_as_access = {"Authorization": f"Bearer {login['refresh_token']}"}
    assert_error(client.get("/api/v1/job", headers=refresh_as_access), 401, "INVALID_TOKEN")
    assert_error(
        client.post("/api/v1/auth/refresh", json={"refresh_token": forged}), 401, "INVALID_TOKEN"
    )
    assert_error(
        client.post("/api/v1/auth/refresh", json={"refresh_token": headers["Authorization"][7:]}),
        401,
        "INVALID_TOKEN",
    )
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert refreshed.status_code == 200
    # Each refresh spends its token (tests/unit/test_security.py): send the one it returned.
    rotated = {"Authorization": f"Bearer {refreshed.json()['data']['refresh_token']}"}
    by_header = client.post("/api/v1/auth/refresh", headers=rotated)
    assert by_header.status_code == 200 and by_header.json()["data"]["expires_in"] == 3600


@pytest.mark.parametrize(
    ("patch", "status", "code"),
    [
        ({"text_content": ""}, 422, "VALIDATION_ERROR"),
        ({"text_content": "   \n\t  "}, 400, "INVALID_PARAMETER"),
        ({"text_content": "\u200b\u200b\u2066\u0007"}, 400, "INVALID_PARAMETER"),
        ({"text_content": "?!... ---"}, 400, "INVALID_PARAMETER"),
        ({"text_content": "x" * 100_001}, 400, "TEXT_TOO_LONG"),
        ({"speed": 0}, 422, "VALIDATION_ERROR"),
        ({"speed": 5}, 422, "VALIDATION_ERROR"),
        ({"pitch": 3.0}, 422, "VALIDATION_ERROR"),
        ({"volume": -1}, 422, "VALIDATION_ERROR"),
        ({"sample_rate": 4000}, 422, "VALIDATION_ERROR"),
        ({"sample_rate": 96000}, 422, "VALIDATION_ERROR"),
        ({"output_format": "wma"}, 422, "VALIDATION_ERROR"),
        ({"output_format": "ulaw", "sample_rate": 16000}, 422, "INCOMPATIBLE_OPTIONS"),
        ({"voice_model_id": "no_such_voice"}, 404, "NOT_FOUND"),
        ({"text_language": "fr-FR"}, 400, "INVALID_PARAMETER"),
        ({"text_language": "../etc"}, 422, "VALIDATION_ERROR"),
        ({"unexpected": 1}, 422, "VALIDATION_ERROR"),
    ],
)
def test_job_create_rejects(
    client: TestClient, patch: dict[str, Any], status: int, code: str
) -> None:
    headers = register_and_login(client, "badjob@example.com")
    payload = {"text_content": "Hello there.", "voice_model_id": "default_voice_001", **patch}
    assert_error(client.post("/api/v1/job", headers=headers, json=payload), status, code)
    assert job_count(client) == 0


def test_malformed_and_oversized_bodies(client: TestClient) -> None:
    headers = register_and_login(client, "body@example.com")
    malformed = client.post(
        "/api/v1/job", headers={**headers, "Content-Type": "application/json"}, content=b"{not json"
    )
    assert_error(malformed, 422, "VALIDATION_ERROR")
    lone_surrogate = b'{"text_content": "bad \\ud800 text"}'
    response = client.post(
        "/api/v1/job",
        headers={**headers, "Content-Type": "application/json"},
        content=lone_surrogate,
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    huge = b'{"text_content": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    assert_error(
        client.post(
            "/api/v1/job", headers={**headers, "Content-Type": "application/json"}, content=huge
        ),
        413,
        "PAYLOAD_TOO_LARGE",
    )
    assert job_count(client) == 0
    sync = client.post("/api/v1/tts/synthesize", headers=headers, json={"text": "word " * 400})
    assert_error(sync, 400, "TEXT_TOO_LONG")
    assert_error(
        client.post(
            "/api/v1/tts/synthesize",
            headers=headers,
            json={"text": "hi", "config": {"sample_rate": 100}},
        ),
        422,
        "VALIDATION_ERROR",
    )


def test_unknown_routes_methods_and_params(client: TestClient) -> None:
    headers = register_and_login(client, "routes@example.com")
    assert_error(client.get("/api/v1/nope"), 404, "NOT_FOUND")
    assert_error(
        client.delete("/api/v1/tts/synthesize", headers=headers), 405, "METHOD_NOT_ALLOWED"
    )
    assert_error(
        client.get("/api/v1/job?sort_by=password_hash", headers=headers), 400, "INVALID_PARAMETER"
    )
    assert_error(
        client.get("/api/v1/job?status=exploded", headers=headers), 400, "INVALID_PARAMETER"
    )
    assert_error(client.get("/api/v1/job?limit=0", headers=headers), 422, "VALIDATION_ERROR")
    assert_error(client.get("/api/v1/job?limit=1000", headers=headers), 422, "VALIDATION_ERROR")
    assert_error(
        client.get("/api/v1/job?page=1&offset=5", headers=headers), 400, "INVALID_PARAMETER"
    )
    assert_error(
        client.get("/api/v1/files/audio/..%2F..%2Fetc%2Fpasswd", headers=headers), 404, "NOT_FOUND"
    )
    assert_error(client.get("/api/v1/voice/models/../../etc", headers=headers), 404, "NOT_FOUND")


def test_other_users_ids_answer_404(client: TestClient) -> None:
    alice = register_and_login(client, "alice@example.com")
    bob = register_and_login(client, "bob@example.com")
    job_id = client.post(
        "/api/v1/job", headers=alice, json={"text_content": "Alice's private words."}
    ).json()["data"]["id"]
    for method, path, body in [
        ("GET", f"/api/v1/job/{job_id}", None),
        ("GET", f"/api/v1/jobs/{job_id}", None),
        ("PUT", f"/api/v1/job/{job_id}", {"speed": 1.2}),
        ("PATCH", f"/api/v1/job/{job_id}", {"status": "cancelled"}),
        ("DELETE", f"/api/v1/job/{job_id}", None),
        ("POST", f"/api/v1/jobs/{job_id}/cancel", None),
        ("GET", f"/api/v1/job/{job_id}/progress", None),
        ("GET", f"/api/v1/files/audio/{job_id}", None),
        ("GET", f"/api/v1/files/{job_id}/info", None),
    ]:
        assert_error(client.request(method, path, headers=bob, json=body), 404, "NOT_FOUND")
    listed = client.get(f"/api/v1/job?user_id={job_id}", headers=bob).json()["data"]
    assert listed == []
    assert client.get(f"/api/v1/job/{job_id}", headers=alice).status_code == 200


def test_owner_may_cancel_but_not_forge_status(client: TestClient) -> None:
    headers = register_and_login(client, "patcher@example.com")
    job_id = client.post("/api/v1/job", headers=headers, json={"text_content": "Patch me."}).json()[
        "data"
    ]["id"]
    forged = client.patch(
        f"/api/v1/job/{job_id}", headers=headers, json={"status": "completed", "progress": 100}
    )
    assert_error(forged, 403, "FORBIDDEN")


def test_rate_limit_per_minute(make_client: Any) -> None:
    client = make_client(requests_per_minute=5)
    headers = register_and_login(client, "rl@example.com")
    for _ in range(5):
        assert client.get("/api/v1/job", headers=headers).status_code == 200
    limited = client.get("/api/v1/job", headers=headers)
    assert_error(limited, 429, "RATE_LIMITED")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_daily_synthesis_quota(make_client: Any) -> None:
    client = make_client(syntheses_per_day=2)
    headers = register_and_login(client, "quota@example.com")
    for _ in range(2):
        response = client.post("/api/v1/job", headers=headers, json={"text_content": "One."})
        assert response.status_code == 201
    over = client.post("/api/v1/job", headers=headers, json={"text_content": "Three."})
    assert_error(over, 429, "QUOTA_EXCEEDED")
    assert_error(
        client.post("/api/v1/tts/synthesize", headers=headers, json={"text": "Four."}),
        429,
        "QUOTA_EXCEEDED",
    )
    assert job_count(client) == 2
