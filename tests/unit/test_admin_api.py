"""Administration: statistics, accounts, runtime limits and the audit log (seed 000)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.unit.conftest import PASSWORD, register_and_login

ADMIN = "root@example.com"
ADMIN_ROUTES = [
    ("GET", "/api/v1/admin/stats"),
    ("GET", "/api/v1/admin/users"),
    ("GET", "/api/v1/admin/config"),
    ("PUT", "/api/v1/admin/config"),
    ("GET", "/api/v1/admin/audit"),
    ("PATCH", "/api/v1/admin/users/usr_0123456789abcdef0123"),
]


def admin_client(make_client: Callable[..., TestClient], **overrides: Any) -> TestClient:
    return make_client(admin_emails=[ADMIN], **overrides)


def user_id(client: TestClient, headers: dict[str, str]) -> str:
    """The id in an access token's subject claim."""
    payload = headers["Authorization"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    subject: str = claims["sub"]
    return subject


def test_only_administrators_reach_the_admin_api(make_client) -> None:  # type: ignore[no-untyped-def]
    client = admin_client(make_client)
    admin = register_and_login(client, ADMIN)
    user = register_and_login(client, "plain@example.com")
    key = client.post(
        "/api/v1/auth/api-keys", headers=admin, json={"name": "ops", "scopes": ["synthesize"]}
    ).json()["data"]["key"]
    for method, path in ADMIN_ROUTES:
        body = {} if method in ("PUT", "PATCH") else None
        assert client.request(method, path, json=body).status_code == 401
        for headers in (user, {"X-API-Key": key}):  # a user; an admin's key without 'admin'
            answer = client.request(method, path, headers=headers, json=body)
            assert answer.status_code == 403, (method, path, answer.text)
            assert answer.json()["error"]["code"] == "FORBIDDEN"
    admin_key = client.post(
        "/api/v1/auth/api-keys", headers=admin, json={"name": "ops", "scopes": ["admin"]}
    ).json()["data"]["key"]
    assert client.get("/api/v1/admin/stats", headers={"X-API-Key": admin_key}).status_code == 200


def test_disabling_a_user_stops_their_tokens_and_keys_at_once(make_client) -> None:  # type: ignore[no-untyped-def]
    client = admin_client(make_client)
    admin = register_and_login(client, ADMIN)
    user = register_and_login(client, "leaver@example.com")
    key = client.post(
        "/api/v1/auth/api-keys", headers=user, json={"name": "ci", "scopes": ["synthesize"]}
    ).json()["data"]["key"]
    target = user_id(client, user)
    assert client.get("/api/v1/voice/models", headers={"X-API-Key": key}).status_code == 200

    changed = client.patch(
        f"/api/v1/admin/users/{target}", headers=admin, json={"is_active": False}
    )
    assert changed.status_code == 200 and changed.json()["data"]["is_active"] is False
    assert client.get("/api/v1/stats/me", headers=user).status_code == 401
    assert client.get("/api/v1/voice/models", headers={"X-API-Key": key}).status_code == 401
    login = {"email": "leaver@example.com", "password": PASSWORD}
    assert client.post("/api/v1/auth/login", json=login).status_code == 401

    client.patch(f"/api/v1/admin/users/{target}", headers=admin, json={"is_active": True})
    # Enabled again: the API key works; the sessions from before stay ended (sign in anew).
    assert client.get("/api/v1/voice/models", headers={"X-API-Key": key}).status_code == 200
    assert client.get("/api/v1/stats/me", headers=user).status_code == 401
    fresh = client.post("/api/v1/auth/login", json=login)
    assert fresh.status_code == 200


def test_users_are_searched_paged_promoted_and_given_their_own_quota(make_client) -> None:  # type: ignore[no-untyped-def]
    client = admin_client(make_client, syntheses_per_day=50)
    admin = register_and_login(client, ADMIN)
    for name in ("ann", "bob", "bea"):
        register_and_login(client, f"{name}@corp.example.com")
    found = client.get(
        "/api/v1/admin/users", headers=admin, params={"search": "B", "page_size": 1}
    ).json()
    assert found["meta"]["pagination"]["total_count"] == 2 and len(found["data"]) == 1
    assert found["data"][0]["email"] in ("bob@corp.example.com", "bea@corp.example.com")
    odd = client.get("/api/v1/admin/users", headers=admin, params={"search": "%_"}).json()
    assert odd["data"] == []  # LIKE wildcards are matched literally

    bob = register_and_login(client, "bob2@example.com")
    bob_id = user_id(client, bob)
    speak = {"text": "Quota check."}
    made = client.patch(
        f"/api/v1/admin/users/{bob_id}",
        headers=admin,
        json={"quota_overrides": {"syntheses_per_day": 1}},
    ).json()["data"]
    assert made["quota_overrides"] == {"syntheses_per_day": 1}
    assert made["limits"]["syntheses_per_day"] == 1
    assert client.post("/api/v1/tts/synthesize", headers=bob, json=speak).status_code == 200
    refused = client.post("/api/v1/tts/synthesize", headers=bob, json=speak)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "QUOTA_EXCEEDED"
    assert client.get("/api/v1/stats/me", headers=bob).json()["data"]["today"]["quota"] == 1
    ann = register_and_login(client, "ann2@example.com")
    assert client.post("/api/v1/tts/synthesize", headers=ann, json=speak).status_code == 200
    bad = client.patch(
        f"/api/v1/admin/users/{bob_id}", headers=admin, json={"quota_overrides": {"bogus": 1}}
    )
    assert bad.status_code == 422

    assert client.get("/api/v1/admin/stats", headers=bob).status_code == 403
    client.patch(f"/api/v1/admin/users/{bob_id}", headers=admin, json={"role": "admin"})
    assert client.get("/api/v1/admin/stats", headers=bob).status_code == 200

    admin_id = user_id(client, admin)
    own = client.patch(f"/api/v1/admin/users/{admin_id}", headers=admin, json={"role": "user"})
    assert own.status_code == 409 and own.json()["error"]["code"] == "CONFLICT"
    missing = client.patch("/api/v1/admin/users/usr_nobody", headers=admin, json={"role": "user"})
    assert missing.status_code == 404


def test_runtime_limits_change_persist_and_reach_every_replica(make_client) -> None:  # type: ignore[no-untyped-def]
    first = admin_client(make_client)
    second = admin_client(make_client)  # another ingress replica over the same database
    admin = register_and_login(first, ADMIN)
    config = first.get("/api/v1/admin/config", headers=admin).json()["data"]
    assert config["limits"] == config["defaults"]
    assert config["limits"]["max_sync_text_chars"] == 1000

    for bad, field in (
        ({"requests_per_minute": 0}, "requests_per_minute"),
        ({"max_sync_text_chars": 10**9}, "max_sync_text_chars"),
        ({"no_such_limit": 5}, None),
    ):
        answer = first.put("/api/v1/admin/config", headers=admin, json=bad)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "INVALID_PARAMETER"
        if field:
            assert field in answer.json()["error"]["details"]
    assert first.put("/api/v1/admin/config", headers=admin, json={"x": "y"}).status_code == 422

    changed = first.put(
        "/api/v1/admin/config", headers=admin, json={"max_sync_text_chars": 12}
    ).json()["data"]
    assert changed["limits"]["max_sync_text_chars"] == 12
    long_text = {"text": "Thirteen chars plus."}
    refused = first.post("/api/v1/tts/synthesize", headers=admin, json=long_text)
    assert refused.status_code == 400, refused.text

    deadline = time.monotonic() + 10  # the other replica re-reads within a few seconds
    while True:
        answer = second.post("/api/v1/tts/synthesize", headers=admin, json=long_text)
        if answer.status_code == 400 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert answer.status_code == 400, "the second replica never applied the change"

    third = admin_client(make_client)  # a restart reads the stored value
    assert (
        third.get("/api/v1/admin/config", headers=admin).json()["data"]["limits"][
            "max_sync_text_chars"
        ]
        == 12
    )
    reset = first.put("/api/v1/admin/config", headers=admin, json={"max_sync_text_chars": None})
    assert reset.json()["data"]["limits"]["max_sync_text_chars"] == 1000
    assert first.post("/api/v1/tts/synthesize", headers=admin, json=long_text).status_code == 200


def test_the_per_minute_limit_changes_at_run_time(make_client) -> None:  # type: ignore[no-untyped-def]
    client = admin_client(make_client)
    admin = register_and_login(client, ADMIN)
    user = register_and_login(client, "busy@example.com")
    client.put("/api/v1/admin/config", headers=admin, json={"requests_per_minute": 3})
    codes = [client.get("/api/v1/voice/models", headers=user).status_code for _ in range(4)]
    if codes != [200, 200, 200, 429]:  # a minute boundary passed mid-test: once more
        codes = [client.get("/api/v1/voice/models", headers=user).status_code for _ in range(4)]
    assert 429 in codes and codes[0] == 200
    stats = client.get("/api/v1/admin/stats", headers=admin)
    if stats.status_code == 429:  # the admin is limited too; lift it and look
        time.sleep(60 - time.time() % 60 + 0.1)
        stats = client.get("/api/v1/admin/stats", headers=admin)
    assert stats.json()["data"]["rejections_today"]["requests_per_minute"] >= 1


def test_every_change_is_audited(make_client) -> None:  # type: ignore[no-untyped-def]
    client = admin_client(make_client)
    admin = register_and_login(client, ADMIN)
    user = register_and_login(client, "audited@example.com")
    target = user_id(client, user)
    client.patch(f"/api/v1/admin/users/{target}", headers=admin, json={"is_active": False})
    client.put("/api/v1/admin/config", headers=admin, json={"uploads_per_day": 7})
    client.put("/api/v1/admin/config", headers=admin, json={"uploads_per_day": 7})  # no change
    client.put("/api/v1/admin/config", headers=admin, json={"requests_per_minute": 0})  # refused

    entries = client.get("/api/v1/admin/audit", headers=admin).json()
    assert entries["meta"]["pagination"]["total_count"] == 2
    newest, oldest = entries["data"]
    assert newest["action"] == "config.update" and newest["actor_id"] == user_id(client, admin)
    assert newest["changes"] == {"uploads_per_day": {"before": 100, "after": 7}}
    assert oldest["action"] == "user.update" and oldest["target_id"] == target
    assert oldest["changes"] == {"is_active": {"before": True, "after": False}}
    assert newest["request_id"] and newest["request_id"] != oldest["request_id"]
    only = client.get("/api/v1/admin/audit", headers=admin, params={"action": "user.update"})
    assert [e["id"] for e in only.json()["data"]] == [oldest["id"]]


def test_stats_count_users_jobs_audio_pools_and_storage(make_client) -> None:  # type: ignore[no-untyped-def]
    client = admin_client(make_client)
    admin = register_and_login(client, ADMIN)
    user = register_and_login(client, "maker@example.com")
    made = client.post("/api/v1/tts/synthesize", headers=user, json={"text": "Counted speech."})
    assert made.status_code == 200
    seconds = made.json()["data"]["duration"]
    client.patch(
        f"/api/v1/admin/users/{user_id(client, user)}", headers=admin, json={"is_active": False}
    )
    stats = client.get("/api/v1/admin/stats", headers=admin).json()["data"]
    assert stats["users"] == {
        "total": 2,
        "active": 1,
        "disabled": 1,
        "admins": 1,
        "active_today": 2,
    }
    assert stats["audio"]["by_engine"] == [{"engine": "piper", "files": 1, "seconds": seconds}]
    assert stats["storage"]["output_bytes"] > 1000 and stats["storage"]["upload_bytes"] == 0
    pools = {pool["name"]: pool for pool in stats["pools"]}
    assert pools["Synthesizer"]["engine"] == "piper" and pools["Synthesizer"]["running"] == 1
    assert pools["Synthesizer"]["in_flight_here"] == 0
    assert stats["queue"] == {"pending": 0, "processing": 0}
    assert stats["rejections_today"] == {
        "requests_per_minute": 0,
        "syntheses_per_day": 0,
        "uploads_per_day": 0,
    }
