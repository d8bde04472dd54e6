"""What each client operation sends and how its answer is read: shared by both clients, so
the sync and async clients differ only in how they wait."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from voxify.client.errors import error_from, retry_after

API = "/api/v1"
FINAL = frozenset({"completed", "failed", "cancelled"})


@dataclass(frozen=True)
class Call:
    """One HTTP request of the API."""

    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    files: Mapping[str, Any] | None = None
    data: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Speech:
    """Synthesized speech: the audio file's bytes and what the service said about it
    (``voice_id``, ``duration``, ``format``, ``sample_rate``, ``words`` if asked for, ...)."""

    audio: bytes
    info: dict[str, Any]


def request_options(call: Call, credential: str | None) -> dict[str, Any]:
    """httpx's keyword arguments for ``call``, with the credential as a Bearer header (API
    keys and access tokens alike)."""
    headers = dict(call.headers)
    if credential:
        headers["Authorization"] = f"Bearer {credential}"
    return {
        "params": call.params,
        "json": call.json,
        "files": call.files,
        "data": call.data,
        "headers": headers,
    }


def retry_delay(
    response: httpx.Response, attempt: int, max_retries: int, max_wait: float
) -> float | None:
    """Seconds to wait before sending again, or None to give up. Only refusals that promise
    nothing happened are retried: 429 (not a spent daily quota) and 503, each with a
    Retry-After the caller is willing to wait."""
    if attempt >= max_retries or response.status_code not in (429, 503):
        return None
    wait = retry_after(response)
    if wait is None or wait > max_wait:
        return None
    if response.status_code == 429 and error_from(response).code == "QUOTA_EXCEEDED":
        return None
    return wait


def data_of(response: httpx.Response) -> Any:
    """The envelope's data of a successful answer; the typed error of any other."""
    if response.status_code >= 400:
        raise error_from(response)
    return response.json()["data"]


def sse_event(line: str) -> dict[str, Any] | None:
    """The JSON event of one Server-Sent Events line; None for comments and keep-alives."""
    return json.loads(line[6:]) if line.startswith("data: ") else None


def is_final(event: Mapping[str, Any]) -> bool:
    return event.get("status") in FINAL or event.get("event") == "complete"


# --- the operations ---------------------------------------------------------------------


def register(email: str, password: str, first_name: str, last_name: str) -> Call:
    body = {"email": email, "password": password, "first_name": first_name, "last_name": last_name}
    return Call("POST", f"{API}/auth/register", json=body)


def login(email: str, password: str) -> Call:
    return Call("POST", f"{API}/auth/login", json={"email": email, "password": password})


def create_api_key(name: str, scopes: list[str] | None, expires_in_days: int | None) -> Call:
    body: dict[str, Any] = {"name": name}
    if scopes is not None:
        body["scopes"] = scopes
    if expires_in_days is not None:
        body["expires_in_days"] = expires_in_days
    return Call("POST", f"{API}/auth/api-keys", json=body)


def speech_body(
    text: str,
    *,
    voice_id: str | None = None,
    format: str = "wav",
    sample_rate: int | None = None,
    speed: float = 1.0,
    pitch: float = 1.0,
    volume: float = 1.0,
    language: str = "en-US",
    timestamps: bool = False,
) -> dict[str, Any]:
    """The body of /tts/synthesize (and /tts/stream, which adds ``format``)."""
    config: dict[str, Any] = {"output_format": format, "speed": speed, "pitch": pitch}
    config["volume"] = volume
    if sample_rate is not None:
        config["sample_rate"] = sample_rate
    body: dict[str, Any] = {"text": text, "language": language, "config": config}
    if voice_id is not None:
        body["voice_id"] = voice_id
    if timestamps:
        body["timestamps"] = True
    return body


def synthesize(text: str, **options: Any) -> Call:
    return Call("POST", f"{API}/tts/synthesize", json=speech_body(text, **options))


def stream(text: str, **options: Any) -> Call:
    body = speech_body(text, **options)
    body["format"] = body["config"].pop("output_format")
    return Call("POST", f"{API}/tts/stream", json=body)


def create_job(text: str, *, title: str | None = None, **options: Any) -> Call:
    speech = speech_body(text, **options)
    body: dict[str, Any] = {
        "text_content": text,
        "text_language": speech["language"],
        **speech["config"],
    }
    if "voice_id" in speech:
        body["voice_model_id"] = speech["voice_id"]
    return Call("POST", f"{API}/job", json=body)


def get(path: str, **params: Any) -> Call:
    clean = {key: value for key, value in params.items() if value is not None}
    return Call("GET", f"{API}/{path}", params=clean or None)


def download(file_or_job_id: str) -> Call:
    return Call("GET", f"{API}/files/audio/{file_or_job_id}")


def progress(job_id: str) -> Call:
    return Call("GET", f"{API}/jobs/{job_id}/progress", headers={"Accept": "text/event-stream"})


def upload_sample(path: Path, *, name: str | None, language: str, transcript: str | None) -> Call:
    fields = {"name": name or path.stem, "language": language}
    if transcript:
        fields["transcript"] = transcript
    files = {"file": (path.name, path.read_bytes(), "application/octet-stream")}
    return Call("POST", f"{API}/voice/samples", files=files, data=fields)


def process_sample(sample_id: str) -> Call:
    return Call("POST", f"{API}/voice/samples/{sample_id}/process", json={})


def create_clone(
    sample_ids: list[str],
    name: str,
    description: str | None,
    config: dict[str, Any] | None = None,
) -> Call:
    body: dict[str, Any] = {"sample_ids": sample_ids, "name": name}
    if description:
        body["description"] = description
    if config:
        body["config"] = config  # search_s, engines
    return Call("POST", f"{API}/voice/clones", json=body)
