"""`voxify serve` sessions: start one per batching mode, wait for health, stop the whole tree."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import yaml

from .config import BIN, MODES

SERVE_CONFIG = Path(__file__).resolve().parents[2] / "serve_config.yaml"
STARTUP_TIMEOUT_S = 240.0
STOP_TIMEOUT_S = 60.0
# The benchmark drives far more than 100 requests/min per user; limits are not under test.
SERVICE_ENV = {
    "VOXIFY_REQUESTS_PER_MINUTE": "100000",
    "VOXIFY_SYNTHESES_PER_DAY": "1000000",
    # Always a private Ray cluster: never attach to someone else's via /tmp/ray state.
    "RAY_ADDRESS": "local",
    "RAY_USAGE_STATS_ENABLED": "0",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _processes() -> dict[int, tuple[int, int, int]]:
    """pid -> (parent pid, session id, start time) for every process we can see."""
    table: dict[int, tuple[int, int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: fields start after the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z":  # zombies are already dead; their parent reaps them
            table[int(entry.name)] = (int(fields[1]), int(fields[3]), int(fields[19]))
    return table


# Serve's access log lines (relayed to `serve run`'s output), one per call and replica.
_SYNTH_LINE = re.compile(
    r"voxify_Synthesizer \S+ (?P<rid>\S+) -- CALL synthesize OK "
    r"(?P<ms>[\d.]+)ms"
)
_POST_LINE = re.compile(
    r"voxify_Ingress \S+ (?P<rid>\S+) -- POST /api/v1/tts/synthesize 200 "
    r"(?P<ms>[\d.]+)ms"
)


class Service:
    """One `voxify serve` in its own session, temp data dir, free port and config copy."""

    def __init__(
        self, mode: str, workdir: Path, overrides: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        self.mode = mode
        self._overrides = overrides or {}
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._dir = workdir / mode
        self._dir.mkdir(parents=True)
        self.log_path = self._dir / "serve.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._family: dict[int, int] = {}  # pid -> start time

    def launch(self) -> None:
        """Start `voxify serve` on a config copy with this mode's batching knobs."""
        config = yaml.safe_load(SERVE_CONFIG.read_text())
        for app in config["applications"]:
            for deployment in app.get("deployments", []):
                if deployment["name"] == "Synthesizer":
                    deployment.setdefault("user_config", {}).update(MODES[self.mode])
                for key, value in self._overrides.get(deployment["name"], {}).items():
                    if isinstance(value, Mapping):
                        deployment.setdefault(key, {}).update(value)
                    else:
                        deployment[key] = value
        config_path = self._dir / "serve_config.yaml"
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        command = [
            str(BIN / "voxify"),
            "serve",
            "--port",
            str(self.port),
            "--grpc-port",
            "0",  # HTTP benchmarks: no gRPC proxy (nor its port) beside them
            "--data-dir",
            str(self._dir / "data"),
            "--config",
            str(config_path),
        ]
        with self.log_path.open("wb") as log:
            # A new session makes the whole Ray tree one process group we can signal alone.
            self._proc = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self._dir,
                env={**os.environ, **SERVICE_ENV},
            )

    def wait_healthy(self) -> None:
        """Block until /api/v1/health answers 200 (the service exiting is an error)."""
        assert self._proc is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.mode} service exited early (log tail below)")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=5).status_code == 200:
                    self._remember_family()
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1.0)
        raise RuntimeError(
            f"{self.mode} service not healthy after {STARTUP_TIMEOUT_S} s (log tail below)"
        )

    def _remember_family(self) -> None:
        """Record every process of ours: the session plus all descendants of the leader."""
        if self._proc is None:
            return
        table = _processes()
        family = {pid for pid, (_, sid, _) in table.items() if sid == self._proc.pid}
        family.add(self._proc.pid)
        grew = True
        while grew:
            grew = False
            for pid, (ppid, _, _) in table.items():
                if ppid in family and pid not in family:
                    family.add(pid)
                    grew = True
        self._family.update({pid: table[pid][2] for pid in family if pid in table})

    def stop(self) -> None:
        """SIGINT to our process group (serve run shuts Ray down), then reap any leftovers."""
        proc = self._proc
        if proc is None:
            return
        self._remember_family()
        if proc.poll() is None:
            self._signal_group(signal.SIGINT)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self._signal_group(signal.SIGKILL)
                    proc.wait()
        # Ray daemons exit shortly after the driver; give them a moment before forcing it.
        deadline = time.monotonic() + 20
        while self._alive() and time.monotonic() < deadline:
            time.sleep(0.5)
        for pid in self._alive():
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._proc = None

    def _signal_group(self, sig: signal.Signals) -> None:
        assert self._proc is not None
        with suppress(ProcessLookupError):
            os.killpg(self._proc.pid, sig)

    def _alive(self) -> list[int]:
        """Recorded processes still running (same pid and start time: not a reused pid)."""
        table = _processes()
        return sorted(
            pid for pid, start in self._family.items() if pid in table and table[pid][2] == start
        )

    def log_size(self) -> int:
        """Current length of the service's log, to read only what comes after it."""
        return self.log_path.stat().st_size

    def access_log(self, since: int) -> dict[str, dict[str, float]]:
        """request id -> {"synth": ms in the Synthesizer, "post": ms in the Ingress}."""
        with self.log_path.open("rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
        timings: dict[str, dict[str, float]] = {}
        for kind, pattern in (("synth", _SYNTH_LINE), ("post", _POST_LINE)):
            for match in pattern.finditer(text):
                timings.setdefault(match["rid"], {})[kind] = float(match["ms"])
        return timings

    def log_tail(self, lines: int = 30) -> str:
        """The end of the service's log, for error reports."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextmanager
def services(
    modes: Sequence[str], workdir: Path, overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> Iterator[dict[str, Service]]:
    """Services for the given modes, started side by side and stopped however the block ends.

    ``overrides`` replaces serve_config.yaml keys per deployment name (dicts are merged)."""
    started = {mode: Service(mode, workdir, overrides) for mode in modes}
    begun = time.perf_counter()
    try:
        for service in started.values():
            print(f"[{service.mode}] starting on {service.url} ...", flush=True)
            service.launch()
        for service in started.values():
            try:
                service.wait_healthy()
            except BaseException:
                print(f"[{service.mode}] last log lines:\n{service.log_tail()}", file=sys.stderr)
                raise
            print(f"[{service.mode}] healthy after {time.perf_counter() - begun:.0f} s", flush=True)
        yield started
    finally:
        for service in started.values():
            service.stop()
            print(f"[{service.mode}] stopped", flush=True)
