"""One user of the service through voxify.client: sign up, synthesize, download, timed."""

from __future__ import annotations

import time
import uuid

from voxify.client import Client as VoxifyClient

from .stats import Sample

PASSWORD = "SecurePass123!"
VOICE_ID = "default_voice_001"
REQUEST_TIMEOUT_S = 300.0


class Client:
    """One account on the service with its own keep-alive HTTP connection."""

    def __init__(self, base_url: str) -> None:
        # No retries: a refused request is a benchmark result, not something to hide.
        self._voxify = VoxifyClient(base_url, timeout=REQUEST_TIMEOUT_S, max_retries=0)

    def sign_up(self) -> None:
        """Register a fresh account and log in with it."""
        email = f"bench-{uuid.uuid4().hex[:16]}@example.com"
        self._voxify.register(email, PASSWORD, "Bench", "Mark")
        self._voxify.login(email, PASSWORD)

    def synthesize(self, text: str) -> Sample:
        """POST /tts/synthesize, then download the WAV; timed end to end."""
        started = time.perf_counter()
        info = self._voxify.speak(text, voice_id=VOICE_ID, format="wav")
        answered = time.perf_counter()
        audio = self._voxify.download(info["file_id"])
        finished = time.perf_counter()
        if not audio.startswith(b"RIFF"):
            raise RuntimeError(f"{info['file_id']} is not a WAV file")
        return Sample(
            audio_s=float(info["duration"]),
            wall_s=finished - started,
            post_s=answered - started,
            download_s=finished - answered,
            request_id=info["file_id"],
        )

    def close(self) -> None:
        """Release the connection."""
        self._voxify.close()
