"""The long fuzzing run: schemathesis against a running service, with real users' tokens.

Usage: .venv/bin/python loadtests/fuzz.py [--url http://127.0.0.1:8000] [--examples 100]
       [--seed 16] [--stream-events 20] [--json PATH]

The same checks as tests/unit/test_fuzz_api.py (no 5xx; the documented status, media type and
body; the envelope with error.code) over every operation of the service's /openapi.json, with
schemathesis's every phase: the schema's examples, each parameter's boundary values, every
unexpected method, then ``--examples`` generated valid and invalid requests per operation.
It signs up a fresh user, gives them a job, a sample (processed), a file, a clone in training
and an API key, fuzzes as that user (signing out and the password change last), then the admin
routes as administrators: each of ``ADMINS`` that the service names in VOXIFY_ADMIN_EMAILS
(reads, account changes, service-wide limits: each part its own administrator, as a change may
lock its author out), and restores the service-wide limits at the end. Figures: operations,
requests by phase and status, time, and every failed check with a curl command to replay it.
docs/reliability.md has the command that starts the service for this run and the last figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # tests.fuzz: the checks and the run, shared with the unit test
    sys.path.insert(0, str(ROOT))

import schemathesis  # noqa: E402

from tests import fuzz  # noqa: E402

PASSWORD = "SecurePass123!"
SPEECH = ROOT / "tests" / "fixtures" / "speech" / "librivox_male_0870.wav"
ADMINS = [f"fuzz-admin-{n}@example.com" for n in range(3)]
ENDING = "/auth/(logout|password)$"
ADMIN = "^/api/v1/admin/"
LIMITS = f"{ADMIN}config$"
TIMEOUT_S = 120.0


def _data(response: httpx.Response) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")
    return response.json()["data"]


def _sign_in(http: httpx.Client, email: str) -> dict[str, str]:
    """Register ``email`` (unless it exists) and return its Authorization header."""
    names = {"first_name": "Fuzz", "last_name": "Run"}
    registered = http.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, **names}
    )
    if registered.status_code not in (201, 409):
        raise RuntimeError(f"cannot register {email}: {registered.text}")
    tokens = _data(http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}))
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _wait(http: httpx.Client, auth: dict[str, str], job_id: str, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _data(http.get(f"/api/v1/jobs/{job_id}", headers=auth))["status"] in (
            "completed",
            "failed",
            "cancelled",
        ):
            return
        time.sleep(1)
    raise RuntimeError(f"job {job_id} did not end in {timeout_s:.0f} s")


def _user_objects(http: httpx.Client, auth: dict[str, str]) -> dict[str, list[str]]:
    """A job, a processed sample, a file, a clone in training and a key; their ids by the
    path parameter names that take them."""
    job = _data(http.post("/api/v1/jobs", headers=auth, json={"text_content": "A fuzzed job."}))
    with SPEECH.open("rb") as audio:
        sample = _data(
            http.post(
                "/api/v1/voice/samples",
                headers=auth,
                files={"file": ("voice.wav", audio, "audio/wav")},
                data={"name": "Fuzz sample"},
            )
        )
    processing = _data(
        http.post(f"/api/v1/voice/samples/{sample['sample_id']}/process", headers=auth)
    )
    _wait(http, auth, processing["job_id"])
    clone = _data(
        http.post(
            "/api/v1/voice/clones",
            headers=auth,
            json={"name": "Fuzz clone", "sample_ids": [sample["sample_id"]]},
        )
    )
    spoken = _data(http.post("/api/v1/tts/synthesize", headers=auth, json={"text": "Hello."}))
    key = _data(
        http.post(
            "/api/v1/auth/api-keys", headers=auth, json={"name": "fuzz", "scopes": ["synthesize"]}
        )
    )
    return {
        "job_id": [job["job_id"], processing["job_id"]],
        "sample_id": [sample["sample_id"]],
        "file_id": [spoken["file_id"], job["job_id"]],
        "clone_id": [clone["clone_id"]],
        "model_id": ["default_voice_001", "kokoro_af_heart", clone["clone_id"], "tts-1"],
        "voice_id": ["default_voice_001", "kokoro_af_heart"],
        "key_id": [key["key_id"]],
    }


def _restore_limits(http: httpx.Client, auth: dict[str, str]) -> None:
    """Service-wide limits back to the service's own (the fuzzer may have set one a minute)."""
    current = _retrying(http, "GET", "/api/v1/admin/config", auth)["limits"]
    _retrying(http, "PUT", "/api/v1/admin/config", auth, json=dict.fromkeys(current))


def _retrying(
    http: httpx.Client, method: str, path: str, auth: dict[str, str], **kwargs: Any
) -> Any:
    for _ in range(5):
        response = http.request(method, path, headers=auth, **kwargs)
        if response.status_code != 429:
            return _data(response)
        time.sleep(float(response.headers.get("retry-after", "5")) + 1)
    raise RuntimeError(f"{method} {path}: still refused (429)")


def _is_admin(http: httpx.Client, auth: dict[str, str]) -> bool:
    return http.get("/api/v1/admin/config", headers=auth).status_code == 200


def main(argv: Sequence[str] | None = None) -> int:
    """Fuzz the service at --url; print the figures; exit 1 if a check failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--examples", type=int, default=100, help="generated per operation")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--stream-events", type=int, default=20, help="read from each stream")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)

    config = fuzz.config(
        max_examples=args.examples, seed=args.seed, max_stream_events=args.stream_events
    )
    schema = schemathesis.openapi.from_url(f"{args.url.rstrip('/')}/openapi.json", config=config)
    reports: dict[str, fuzz.Report] = {}
    with httpx.Client(base_url=args.url, timeout=TIMEOUT_S) as http:
        auth = _sign_in(http, f"fuzz-{uuid.uuid4().hex[:12]}@example.com")
        fuzz.known_ids(schema, _user_objects(http, auth))
        user = schema.exclude(path_regex=ADMIN)
        reports["user"] = fuzz.run(user.exclude(path_regex=ENDING), headers=auth)
        print(reports["user"].summary(per_operation=True), flush=True)
        reports["user: sign-out and password"] = fuzz.run(
            user.include(path_regex=ENDING), headers=auth
        )
        admins = [_sign_in(http, email) for email in ADMINS]
        if all(_is_admin(http, admin) for admin in admins):
            parts = {
                "admin: reads": schema.include(path_regex=ADMIN, method="GET"),
                "admin: accounts": schema.include(path_regex=ADMIN)
                .exclude(method="GET")
                .exclude(path_regex=LIMITS),
                "admin: limits": schema.include(path_regex=LIMITS).exclude(method="GET"),
            }
            for (name, part), admin in zip(parts.items(), admins, strict=True):
                reports[name] = fuzz.run(part, headers=admin)
            _restore_limits(http, admins[-1])
        else:
            print(f"admin routes skipped: the service's VOXIFY_ADMIN_EMAILS lacks {ADMINS}")
    for name, report in reports.items():
        print(f"\n== {name}\n{report.summary(per_operation=name == 'user')}")
    failed = sum(len(report.findings) + len(report.errors) for report in reports.values())
    if args.json:
        args.json.write_text(json.dumps(_figures(args, reports), indent=2) + "\n")
    return 1 if failed else 0


def _figures(args: argparse.Namespace, reports: dict[str, fuzz.Report]) -> dict[str, Any]:
    return {
        "url": args.url,
        "examples": args.examples,
        "seed": args.seed,
        "parts": {
            name: {
                "operations": len(report.answers),
                "requests": report.requests,
                "seconds": round(report.seconds, 1),
                "requests_by_phase": dict(report.phases),
                "statuses": {str(status): n for status, n in sorted(report.statuses.items())},
                "failed_checks": [vars(finding) for finding in report.findings],
                "errors": report.errors,
            }
            for name, report in reports.items()
        },
    }


if __name__ == "__main__":
    sys.exit(main())
