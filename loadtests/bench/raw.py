"""The baseline: Piper alone, in a child process (`benchmark.py --raw-worker`) of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .config import SENTENCES
from .stats import Sample

# The worker is the entry script itself, so the child starts exactly like the benchmark does.
SCRIPT = Path(__file__).resolve().parents[1] / "benchmark.py"


class RawEngine:
    """Piper in a child process with a session of its own, asked for one text at a time."""

    # Linux shares CPU time out per session (CFS autogroup) and each service runs in a session
    # of its own, so the baseline does too: on a shared machine both then compete on the same
    # terms, and whatever this process does (HTTP clients, locust) never counts against it.

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), "--raw-worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        if self._read() != "ready":
            raise RuntimeError("raw engine worker failed to start")

    def synthesize(self, text: str) -> Sample:
        """Compute time and audio length of one synthesis, timed inside the worker."""
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(text) + "\n")
        self._proc.stdin.flush()
        reply = json.loads(self._read())
        return Sample(audio_s=float(reply["audio_s"]), wall_s=float(reply["wall_s"]))

    def close(self) -> None:
        """End the worker (it exits when its stdin closes)."""
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def _read(self) -> str:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"raw engine worker exited ({self._proc.poll()})")
        return line.strip()


def raw_worker() -> int:
    """Child side of RawEngine: load and warm Piper, then answer one JSON line per text."""
    from voxify.engines.piper import PiperEngine  # only this child loads the project

    # Replies get the real stdout; anything a library prints goes to stderr instead.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    engine = PiperEngine()
    for text in SENTENCES[:2]:  # first calls pay for ONNX graph set-up and allocations
        engine.synthesize(text)
    replies.write("ready\n")
    for line in sys.stdin:
        started = time.perf_counter()
        audio = engine.synthesize(json.loads(line), speed=1.0)
        elapsed = time.perf_counter() - started
        replies.write(json.dumps({"audio_s": audio.duration, "wall_s": elapsed}) + "\n")
    return 0
