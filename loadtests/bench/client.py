"""One user of the service over its public HTTP API: sign up, synthesize, download."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from .stats import Sample

PASSWORD = "SecurePass123!"
VOICE_ID = "default_voice_001"
REQUEST_TIMEOUT_S = 300.0


class Client:
    """One account on the service with its own keep-alive HTTP connection."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S)

    def sign_up(self) -> None:
        """Register a fresh account and log in with it."""
        email = f"bench-{uuid.uuid4().hex[:16]}@example.com"
        self._api(
            "POST",
            "/api/v1/auth/register",
            json={
                "email": email,
                "password": PASSWORD,
                "first_name": "Bench",
                "last_name": "Mark",
            },
        )
        tokens = self._api(
            "POST", "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
        )
        self._http.headers["Authorization"] = f"Bearer {tokens['access_token']}"

    def synthesize(self, text: str) -> Sample:
        """POST /tts/synthesize, then download the WAV; timed end to end."""
        started = time.perf_counter()
        posted = self._http.post(
            "/api/v1/tts/synthesize",
            json={
                "text": text,
                "voice_id": VOICE_ID,
                "config": {"output_format": "wav"},
            },
        )
        answered = time.perf_counter()
        data = _data(posted)
        response = self._http.get(data["audio_path"])
        finished = time.perf_counter()
        response.raise_for_status()
        if not response.content.startswith(b"RIFF"):
            raise RuntimeError(f"{data['audio_path']} is not a WAV file")
        return Sample(
            audio_s=float(data["duration"]),
            wall_s=finished - started,
            post_s=answered - started,
            download_s=finished - answered,
            request_id=posted.headers.get("x-request-id", ""),
        )

    def close(self) -> None:
        """Release the connection."""
        self._http.close()

    def _api(self, method: str, path: str, json: Any = None) -> Any:
        return _data(self._http.request(method, path, json=json))


def _data(response: httpx.Response) -> Any:
    """The envelope's data, or an error naming the request."""
    try:
        envelope = response.json()
    except ValueError:
        envelope = {}
    if response.status_code >= 400 or not envelope.get("success"):
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: HTTP "
            f"{response.status_code} {response.text[:300]}"
        )
    return envelope["data"]
