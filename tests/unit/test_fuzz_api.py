"""Fuzzing: schemathesis drives every operation of the OpenAPI schema with a real user's token
(and the admin routes with administrators' tokens) against the in-process app.

Each answer must not be a 5xx, must have a status, media type and body the schema documents,
and, as JSON outside OpenAI's door, must wear the envelope (errors with a stable ``error.code``).
The run is bounded and derandomized: the same requests every time. loadtests/fuzz.py runs the
same checks longer against a running service (figures in docs/reliability.md).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests import fuzz
from tests.unit.conftest import add_ready_clone, register_and_login
from voxify.db.models import User
from voxify.db.session import session_scope

SPEECH = Path(__file__).parents[1] / "fixtures" / "speech" / "librivox_male_0870.wav"
USER = "fuzz@example.com"
ADMINS = [f"fuzz-admin-{n}@example.com" for n in range(3)]
# Most requests are schemathesis's boundary values ("coverage"); these bound the rest (the
# long run, loadtests/fuzz.py, lifts each): one method no path has shows that a wrong method
# answers 405 in the envelope; a stream is left after its first event (a job's state now, or
# a speech stream's job_info: its first piece is rendered before the answer starts);
# /api/v1/jobs is the router of /api/v1/job mounted again; the admin routes are fuzzed as
# administrators below (as a user, each is the same 403 of one dependency).
BOUNDS: dict[str, Any] = {
    "max_examples": 6,  # generated requests per operation, beside the boundary values
    "seed": 16,
    "unexpected_methods": ["trace"],
    "max_stream_events": 1,
}
NOT_AS_A_USER = ["^/api/v1/jobs", "^/api/v1/admin/"]
# Fuzzed text is rendered by the real Piper voice: these limits keep each render short (the
# limits' own rule, a 4xx above them, is what the fuzzer meets instead).
SMALL_TEXT = {"max_sync_text_chars": 120, "max_stream_text_chars": 120}


def _made(response: Any) -> dict[str, Any]:
    assert response.status_code < 300, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def _passes(schema: schemathesis.BaseSchema, headers: dict[str, str]) -> None:
    report = fuzz.run(schema, headers=headers)
    print(report.summary(per_operation=True))
    assert not report.findings and not report.errors, report.summary()


@pytest.fixture
def user_api(
    make_client: Callable[..., TestClient],
) -> tuple[schemathesis.BaseSchema, dict[str, str]]:
    """The app's schema, and a signed-in user who has a job, a sample, a file, a clone and a
    key (their ids are among the path ids the fuzzer tries)."""
    # Jobs stay pending: background renders of fuzzed text would only compete for the cores
    # (the runners have their own tests); pending jobs are the ones edits and cancels accept.
    client = make_client(run_jobs=False, **SMALL_TEXT)
    auth = register_and_login(client, USER)
    job = _made(client.post("/api/v1/job", headers=auth, json={"text_content": "A pending job."}))
    with SPEECH.open("rb") as audio:
        sample = _made(
            client.post(
                "/api/v1/voice/samples",
                headers=auth,
                files={"file": ("voice.wav", audio, "audio/wav")},
                data={"name": "Fuzz sample"},
            )
        )
    processing = _made(
        client.post(f"/api/v1/voice/samples/{sample['sample_id']}/process", headers=auth)
    )
    spoken = _made(client.post("/api/v1/tts/synthesize", headers=auth, json={"text": "Hello."}))
    key = _made(
        client.post(
            "/api/v1/auth/api-keys", headers=auth, json={"name": "fuzz", "scopes": ["synthesize"]}
        )
    )
    clone = add_ready_clone(client, USER)
    schema: schemathesis.BaseSchema = schemathesis.openapi.from_asgi(
        "/openapi.json", client.app, config=fuzz.config(**BOUNDS)
    )
    fuzz.known_ids(
        schema,
        {
            "job_id": [job["job_id"], processing["job_id"]],
            "sample_id": [sample["sample_id"]],
            "file_id": [spoken["file_id"], job["job_id"]],
            "clone_id": [clone],
            "model_id": ["default_voice_001", "kokoro_af_heart", clone, "tts-1"],
            "voice_id": ["default_voice_001", clone],
            "key_id": [key["key_id"]],
        },
    )
    for regex in NOT_AS_A_USER:
        schema = schema.exclude(path_regex=regex)
    return schema, auth


def test_every_operation_as_a_user(
    user_api: tuple[schemathesis.BaseSchema, dict[str, str]],
) -> None:
    schema, auth = user_api
    # Signing out and changing the password end the session every other request uses: last.
    ending = "/auth/(logout|password)$"
    _passes(schema.exclude(path_regex=ending), auth)
    _passes(schema.include(path_regex=ending), auth)


@pytest.fixture
def admin_api(
    make_client: Callable[..., TestClient],
) -> tuple[schemathesis.BaseSchema, TestClient]:
    """The app's schema, with a user account for administrators to change."""
    client = make_client(run_jobs=False, admin_emails=ADMINS)
    register_and_login(client, USER)
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", client.app, config=fuzz.config(**BOUNDS)
    )
    services = client.app.state.services  # type: ignore[attr-defined]
    with session_scope(services.sessions) as session:
        user_id = session.scalar(select(User.id).where(User.email == USER))
    assert user_id is not None
    fuzz.known_ids(schema, {"user_id": [user_id]})
    return schema, client


def test_admin_operations_as_administrators(
    admin_api: tuple[schemathesis.BaseSchema, TestClient],
) -> None:
    schema, client = admin_api
    admin = "^/api/v1/admin/"
    # A write may lock its administrator out (their own quota of one request a minute, say,
    # or the service's): each part runs as an administrator of its own, writes after reads,
    # and the service-wide limits last.
    config = f"{admin}config$"
    parts = [
        schema.include(path_regex=admin, method="GET"),
        schema.include(path_regex=admin).exclude(method="GET").exclude(path_regex=config),
        schema.include(path_regex=config).exclude(method="GET"),
    ]
    for email, part in zip(ADMINS, parts, strict=True):
        _passes(part, register_and_login(client, email))
