"""A real Chroma server for tests: `chroma run` on a free loopback port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

CHROMA_START_S = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_chroma(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Run `chroma run` on a free loopback port over ``path``; return it once it answers."""
    binary = Path(sys.executable).parent / "chroma"
    command = str(binary) if binary.exists() else shutil.which("chroma")
    assert command, "the chroma CLI (from the chromadb package) is not installed"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (path.parent / f"{path.name}-chroma-{port}.log").open("wb")
    process = subprocess.Popen(
        [command, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,  # a file, not a pipe nobody drains
    )
    log.close()
    deadline = time.monotonic() + CHROMA_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chroma run exited with {process.returncode}; see {log.name}")
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop_chroma(process)
    raise RuntimeError(f"chroma run did not answer within {CHROMA_START_S} s; see {log.name}")


def stop_chroma(process: subprocess.Popen[bytes]) -> None:
    """Stop a server from start_chroma, forcefully if it will not go."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
