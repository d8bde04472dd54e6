"""API keys: issued once, stored hashed, scoped, revoked at once, invisible to other users."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.unit.conftest import register_and_login
from voxify.db.models import ApiKey, utcnow
from voxify.db.session import session_scope


def _create(client: TestClient, headers: dict[str, str], **body: object) -> dict:
    response = client.post(
        "/api/v1/auth/api-keys", json={"name": "script", **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_key_lifecycle_both_headers_and_revocation(client: TestClient) -> None:
    session_headers = register_and_login(client, "keys@example.com")
    created = _create(client, session_headers, scopes=["synthesize"], expires_in_days=30)
    key = created["key"]
    assert key.startswith(f"{created['prefix']}_") and created["key_id"].startswith("key_")
    assert created["scopes"] == ["synthesize"] and created["expires_at"] is not None

    # The secret is stored only as a hash, and listing never shows it.
    services = client.app.state.services  # type: ignore[attr-defined]
    with session_scope(services.sessions) as session:
        row = session.scalar(select(ApiKey).where(ApiKey.id == created["key_id"]))
        assert row is not None and key not in row.secret_hash and len(row.secret_hash) == 64
    listed = client.get("/api/v1/auth/api-keys", headers=session_headers).json()["data"]
    assert [item["key_id"] for item in listed] == [created["key_id"]]
    assert "key" not in listed[0] and listed[0]["last_used_at"] is None

    for headers in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
        response = client.post(
            "/api/v1/tts/synthesize", json={"text": "A key speaks."}, headers=headers
        )
        assert response.status_code == 200, response.text
    listed = client.get("/api/v1/auth/api-keys", headers=session_headers).json()["data"]
    assert listed[0]["last_used_at"] is not None

    # Keys cannot manage keys.
    response = client.get("/api/v1/auth/api-keys", headers={"X-API-Key": key})
    assert response.status_code == 403

    deleted = client.delete(f"/api/v1/auth/api-keys/{created['key_id']}", headers=session_headers)
    assert deleted.status_code == 200
    response = client.get("/api/v1/job", headers={"X-API-Key": key})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_TOKEN"


def test_scopes_are_enforced(client: TestClient) -> None:
    headers = register_and_login(client, "scopes@example.com")
    voices_only = {"X-API-Key": _create(client, headers, scopes=["voices"])["key"]}
    speech_only = {"X-API-Key": _create(client, headers, scopes=["synthesize"])["key"]}

    refused = client.post("/api/v1/tts/synthesize", json={"text": "No."}, headers=voices_only)
    assert refused.status_code == 403 and "synthesize" in refused.json()["error"]["message"]
    assert (
        client.post("/api/v1/job", json={"text_content": "No."}, headers=voices_only).status_code
        == 403
    )
    assert client.get("/api/v1/voice/samples", headers=speech_only).status_code == 403
    # Reading the library and one's history is allowed with either scope.
    assert client.get("/api/v1/voice/models", headers=voices_only).status_code == 200
    assert client.get("/api/v1/job", headers=speech_only).status_code == 200
    assert client.get("/api/v1/voice/samples", headers=voices_only).status_code == 200

    # Only administrators may hold the admin scope.
    response = client.post(
        "/api/v1/auth/api-keys", json={"name": "x", "scopes": ["admin"]}, headers=headers
    )
    assert response.status_code == 403
    response = client.post(
        "/api/v1/auth/api-keys", json={"name": "x", "scopes": ["root"]}, headers=headers
    )
    assert response.status_code == 422


def test_expired_and_malformed_keys_are_refused(client: TestClient) -> None:
    headers = register_and_login(client, "expiry@example.com")
    created = _create(client, headers)
    services = client.app.state.services  # type: ignore[attr-defined]
    with session_scope(services.sessions) as session:
        row = session.get(ApiKey, created["key_id"])
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    response = client.get("/api/v1/job", headers={"X-API-Key": created["key"]})
    assert response.status_code == 401 and response.json()["error"]["code"] == "TOKEN_EXPIRED"

    wrong_secret = created["key"][:-4] + ("aaaa" if not created["key"].endswith("aaaa") else "bbbb")
    for bad in (wrong_secret, "vx_", "vx_nothing", f"{created['prefix']}_"):
        response = client.get("/api/v1/job", headers={"X-API-Key": bad})
        assert response.status_code == 401, bad


def test_keys_are_private_and_limits_are_the_owners(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client(requests_per_minute=5)
    alice = register_and_login(client, "alice-keys@example.com")
    bob = register_and_login(client, "bob-keys@example.com")
    created = _create(client, alice)
    # Bob can neither see nor revoke Alice's key.
    assert client.get("/api/v1/auth/api-keys", headers=bob).json()["data"] == []
    response = client.delete(f"/api/v1/auth/api-keys/{created['key_id']}", headers=bob)
    assert response.status_code == 404
    # The key counts against Alice's per-minute limit (her session used some of it already).
    key_headers = {"X-API-Key": created["key"]}
    statuses = [client.get("/api/v1/job", headers=key_headers).status_code for _ in range(6)]
    assert 429 in statuses
    assert client.get("/api/v1/job", headers=alice).status_code == 429
    assert client.get("/api/v1/job", headers=bob).status_code == 200


def test_disabled_owner_stops_every_key(client: TestClient) -> None:
    headers = register_and_login(client, "disabled@example.com")
    key = _create(client, headers)["key"]
    services = client.app.state.services  # type: ignore[attr-defined]
    from voxify.db.models import User

    with session_scope(services.sessions) as session:
        user = session.scalar(select(User).where(User.email == "disabled@example.com"))
        assert user is not None
        user.is_active = False
    assert client.get("/api/v1/job", headers={"X-API-Key": key}).status_code == 401
