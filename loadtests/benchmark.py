"""Voxify benchmark: raw Piper RTF vs the service end to end, and batched vs unbatched serving."""

# Usage: .venv/bin/python loadtests/benchmark.py [--quick] [--json PATH] [--locust]
# Only the public HTTP API is measured, plus the raw engine (a child process) for the baseline.
# This process imports neither ray nor the project: each service runs as its own `voxify serve`
# session, and the raw engine runs in a session of its own too (see RawEngine).

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO = Path(__file__).resolve().parents[1]
SERVE_CONFIG = REPO / "serve_config.yaml"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
BIN = Path(sys.executable).parent
PASSWORD = "SecurePass123!"
VOICE_ID = "default_voice_001"
CONCURRENCY = 8
STARTUP_TIMEOUT_S = 240.0
STOP_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 300.0
OVERHEAD_TARGET = 1.15
# The benchmark drives far more than 100 requests/min per user; limits are not under test.
SERVICE_ENV = {
    "VOXIFY_REQUESTS_PER_MINUTE": "100000",
    "VOXIFY_SYNTHESES_PER_DAY": "1000000",
    # Always a private Ray cluster: never attach to someone else's via /tmp/ray state.
    "RAY_ADDRESS": "local",
    "RAY_USAGE_STATS_ENABLED": "0",
}
MODES = {
    "unbatched": {"max_batch_size": 1, "batch_wait_timeout_s": 0.0},
    "batched": {"max_batch_size": 8, "batch_wait_timeout_s": 0.05},
}

# Eight different sentences of 15-25 words: long enough that fixed per-request costs show
# up as a ratio, short enough for the synchronous endpoint.
SENTENCES = (
    "The old lighthouse keeper climbed the spiral stairs every evening to light the lamp that "
    "guided ships safely home.",
    "Fresh bread from the corner bakery fills the whole street with a warm smell long before "
    "the shops open.",
    "After three days of heavy rain, the river finally burst its banks and flooded the low "
    "fields near the village.",
    "Our team reviewed the quarterly results carefully and decided to invest more in research, "
    "training, and customer support next year.",
    "She packed a small bag with a map, a flashlight, two sandwiches, and a notebook before "
    "setting off into the forest.",
    "Modern trains can travel between the two cities in under an hour, which makes commuting "
    "far easier than it used to be.",
    "Please remember to water the tomato plants on the balcony twice a week while we are away "
    "on holiday.",
    "The museum's new exhibition explores how ancient sailors used the stars, the winds, and "
    "the ocean currents to cross vast distances.",
)


@dataclass(frozen=True)
class Plan:
    """How much work each phase does."""

    sentences: tuple[str, ...]
    sequential_rounds: int  # passes over the sentences, raw engine and service interleaved
    burst_rounds: int  # concurrency-8 bursts per batching mode, the modes taking turns
    burst_repeats: int  # each sentence appears this often in one burst

    @property
    def burst(self) -> list[str]:
        """The texts of one concurrency-8 burst."""
        return [text for text in self.sentences for _ in range(self.burst_repeats)]


FULL = Plan(SENTENCES, sequential_rounds=4, burst_rounds=4, burst_repeats=2)
QUICK = Plan(SENTENCES[:4], sequential_rounds=1, burst_rounds=1, burst_repeats=2)


@dataclass
class Sample:
    """One synthesis: seconds of audio produced and wall seconds it took."""

    audio_s: float
    wall_s: float
    post_s: float = 0.0  # service only: POST /tts/synthesize until its answer
    download_s: float = 0.0  # service only: GET of the WAV
    request_id: str = ""  # service only: Serve's x-request-id of the POST


@dataclass
class Stats:
    """Aggregates over a set of samples; RTF = wall seconds / audio seconds."""

    requests: int
    audio_s: float
    wall_s: float
    rtf: float
    requests_per_s: float
    audio_s_per_s: float
    latency_p50_s: float
    latency_p95_s: float
    post_share: float = 0.0  # service only: fraction of end-to-end time spent in the POST
    download_p50_s: float = 0.0  # service only: median GET of the WAV

    @classmethod
    def of(cls, samples: Sequence[Sample], wall_s: float | None = None) -> Stats:
        """Sequential (wall = sum of latencies) or concurrent (wall = elapsed) aggregates."""
        audio = sum(s.audio_s for s in samples)
        latencies = sorted(s.wall_s for s in samples)
        total = sum(latencies) if wall_s is None else wall_s
        served = sum(s.post_s + s.download_s for s in samples)
        return cls(
            requests=len(samples), audio_s=audio, wall_s=total, rtf=total / audio,
            requests_per_s=len(samples) / total, audio_s_per_s=audio / total,
            latency_p50_s=_percentile(latencies, 50), latency_p95_s=_percentile(latencies, 95),
            post_share=sum(s.post_s for s in samples) / served if served else 0.0,
            download_p50_s=_percentile(sorted(s.download_s for s in samples), 50),
        )


@dataclass
class Results:
    """Everything one run measured (written with --json)."""

    machine: dict[str, Any]
    plan: dict[str, Any]
    raw: Stats | None = None
    service_c1: Stats | None = None
    overhead_c1: float = math.nan
    paired_overhead_median: float = math.nan
    paired_overhead_ms_median: float = math.nan  # service minus raw wall time, same sentence
    breakdown: dict[str, float] = field(default_factory=dict)  # where a c1 request's time goes
    service_c8: Stats | None = None
    modes: dict[str, dict[str, Any]] = field(default_factory=dict)
    batched_over_unbatched: float = math.nan
    faster: str = ""
    locust: dict[str, Any] | None = None


def _percentile(ordered: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


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
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z":  # zombies are already dead; their parent reaps them
            table[int(entry.name)] = (int(fields[1]), int(fields[3]), int(fields[19]))
    return table


# Serve's access log lines (relayed to `serve run`'s output), one per call and replica.
_SYNTH_LINE = re.compile(r"voxify_Synthesizer \S+ (?P<rid>\S+) -- CALL synthesize OK "
                         r"(?P<ms>[\d.]+)ms")
_POST_LINE = re.compile(r"voxify_Ingress \S+ (?P<rid>\S+) -- POST /api/v1/tts/synthesize 200 "
                        r"(?P<ms>[\d.]+)ms")


class Service:
    """One `voxify serve` in its own session, temp data dir, free port and config copy."""

    def __init__(self, mode: str, workdir: Path) -> None:
        self.mode = mode
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
        config_path = self._dir / "serve_config.yaml"
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        command = [str(BIN / "voxify"), "serve", "--port", str(self.port),
                   "--data-dir", str(self._dir / "data"), "--config", str(config_path)]
        with self.log_path.open("wb") as log:
            # A new session makes the whole Ray tree one process group we can signal alone.
            self._proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True, cwd=self._dir,
                                          env={**os.environ, **SERVICE_ENV})

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
        raise RuntimeError(f"{self.mode} service not healthy after {STARTUP_TIMEOUT_S} s "
                           "(log tail below)")

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
        return sorted(pid for pid, start in self._family.items()
                      if pid in table and table[pid][2] == start)

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
def services(modes: Sequence[str], workdir: Path) -> Iterator[dict[str, Service]]:
    """Services for the given modes, started side by side and stopped however the block ends."""
    started = {mode: Service(mode, workdir) for mode in modes}
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
            print(f"[{service.mode}] healthy after {time.perf_counter() - begun:.0f} s",
                  flush=True)
        yield started
    finally:
        for service in started.values():
            service.stop()
            print(f"[{service.mode}] stopped", flush=True)


class Client:
    """One account on the service with its own keep-alive HTTP connection."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S)

    def sign_up(self) -> None:
        """Register a fresh account and log in with it."""
        email = f"bench-{uuid.uuid4().hex[:16]}@example.com"
        self._api("POST", "/api/v1/auth/register", json={
            "email": email, "password": PASSWORD, "first_name": "Bench", "last_name": "Mark",
        })
        tokens = self._api("POST", "/api/v1/auth/login",
                           json={"email": email, "password": PASSWORD})
        self._http.headers["Authorization"] = f"Bearer {tokens['access_token']}"

    def synthesize(self, text: str) -> Sample:
        """POST /tts/synthesize, then download the WAV; timed end to end."""
        started = time.perf_counter()
        posted = self._http.post("/api/v1/tts/synthesize", json={
            "text": text, "voice_id": VOICE_ID, "config": {"output_format": "wav"},
        })
        answered = time.perf_counter()
        data = _data(posted)
        response = self._http.get(data["audio_path"])
        finished = time.perf_counter()
        response.raise_for_status()
        if not response.content.startswith(b"RIFF"):
            raise RuntimeError(f"{data['audio_path']} is not a WAV file")
        return Sample(audio_s=float(data["duration"]), wall_s=finished - started,
                      post_s=answered - started, download_s=finished - answered,
                      request_id=posted.headers.get("x-request-id", ""))

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
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: HTTP "
                           f"{response.status_code} {response.text[:300]}")
    return envelope["data"]


class RawEngine:
    """Piper in a child process with a session of its own, asked for one text at a time."""

    # Linux shares CPU time out per session (CFS autogroup) and each service runs in a session
    # of its own, so the baseline does too: on a shared machine both then compete on the same
    # terms, and whatever this process does (HTTP clients, locust) never counts against it.

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--raw-worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True,
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


def _raw_worker() -> int:
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


@contextmanager
def signed_up(service: Service) -> Iterator[list[Client]]:
    """CONCURRENCY clients with an account each (as separate users would be), then closed."""
    clients = [Client(service.url) for _ in range(CONCURRENCY)]
    try:
        for client in clients:
            client.sign_up()
        print(f"[{service.mode}] warming up", flush=True)
        _warm_up(clients)
        yield clients
    finally:
        for client in clients:
            client.close()


def _concurrent(clients: Sequence[Client], texts: Sequence[str]) -> tuple[list[Sample], float]:
    """Serve all texts with one thread per client pulling from a shared queue."""
    work: queue.SimpleQueue[str] = queue.SimpleQueue()
    for text in texts:
        work.put(text)
    samples: list[Sample] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    gate = threading.Barrier(len(clients) + 1)

    def worker(client: Client) -> None:
        gate.wait()
        while True:
            try:
                text = work.get_nowait()
            except queue.Empty:
                return
            try:
                sample = client.synthesize(text)
            except BaseException as exc:  # reported by the caller, after every thread ends
                with lock:
                    errors.append(exc)
                return
            with lock:
                samples.append(sample)

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} concurrent request(s) failed") from errors[0]
    return samples, elapsed


def _warm_up(clients: Sequence[Client]) -> None:
    """Exercise every account and the whole request path (batched path too) once."""
    _concurrent(clients, [SENTENCES[0]] * len(clients))
    clients[0].synthesize(SENTENCES[1])


def _sequential(engine: RawEngine, client: Client,
                plan: Plan) -> tuple[list[Sample], list[Sample]]:
    """Raw engine and service (idle apart from this one request) take turns on each sentence."""
    raw: list[Sample] = []
    served: list[Sample] = []
    for round_index in range(plan.sequential_rounds):
        for index, text in enumerate(plan.sentences):
            # Alternate who goes first so slow drift in machine load favours neither side.
            if (round_index + index) % 2 == 0:
                raw.append(engine.synthesize(text))
                served.append(client.synthesize(text))
            else:
                served.append(client.synthesize(text))
                raw.append(engine.synthesize(text))
    return raw, served


def _breakdown(samples: Sequence[Sample],
               timings: dict[str, dict[str, float]]) -> dict[str, float]:
    """Medians of where each request's time went, from the client and Serve's access log."""
    rows = [(sample, timings[sample.request_id]) for sample in samples
            if {"synth", "post"} <= timings.get(sample.request_id, {}).keys()]
    if not rows:
        return {}

    def median(values: list[float]) -> float:
        return _percentile(sorted(values), 50)

    return {
        "requests": len(rows),
        "synthesizer_ms": median([t["synth"] for _, t in rows]),
        "ingress_extra_ms": median([t["post"] - t["synth"] for _, t in rows]),
        "proxy_http_extra_ms": median([s.post_s * 1000 - t["post"] for s, t in rows]),
        "download_ms": median([s.download_s * 1000 for s, _ in rows]),
        "end_to_end_over_synthesizer": median([s.wall_s * 1000 / t["synth"] for s, t in rows]),
    }


def _run_locust(url: str, workdir: Path) -> dict[str, Any]:
    """The locust scenario, headless in its own process (gevent and ray must not mix)."""
    prefix = workdir / "locust"
    command = [str(BIN / "locust"), "-f", str(LOCUSTFILE), "--headless", "--host", url,
               "--csv", str(prefix), "--only-summary"]
    print(f"[locust] {' '.join(command)}", flush=True)
    completed = subprocess.run(command, capture_output=True, text=True, timeout=180)
    if completed.returncode != 0:
        print((completed.stdout + completed.stderr)[-4000:], file=sys.stderr, flush=True)
    rows = _csv_rows(Path(f"{prefix}_stats.csv"))
    total = next((r for r in rows if r.get("Name") == "Aggregated"), {})
    return {
        "exit_code": completed.returncode,
        "aggregated": total,
        "per_request": [r for r in rows if r.get("Name") != "Aggregated"],
    }


def _csv_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _row(label: str, stats: Stats) -> str:
    return (f"{label:<34}{stats.requests:>5}{stats.audio_s:>9.1f}{stats.wall_s:>9.1f}"
            f"{stats.rtf:>8.3f}{stats.requests_per_s:>8.2f}{stats.audio_s_per_s:>9.2f}"
            f"{stats.latency_p50_s:>8.2f}{stats.latency_p95_s:>8.2f}")


def _report(results: Results) -> str:
    header = (f"{'measurement':<34}{'reqs':>5}{'audio s':>9}{'wall s':>9}{'RTF':>8}"
              f"{'req/s':>8}{'audio/s':>9}{'p50 s':>8}{'p95 s':>8}")
    lines = [header, "-" * len(header)]
    if results.raw:
        lines.append(_row("raw Piper, sequential", results.raw))
    if results.service_c1:
        lines.append(_row("service, concurrency 1", results.service_c1))
    if results.service_c8:
        lines.append(_row("service, concurrency 8", results.service_c8))
    for mode, data in results.modes.items():
        lines.append(_row(f"{mode} Synthesizer, conc. 8", data["c8"]))
    lines.append("")
    if results.service_c1:
        lines.append(f"overhead service/raw at concurrency 1: x{results.overhead_c1:.3f} "
                     f"(median of paired ratios x{results.paired_overhead_median:.3f}; "
                     f"target <= {OVERHEAD_TARGET})")
        lines.append(f"  median extra wall time per request vs raw: "
                     f"{results.paired_overhead_ms_median:.0f} ms; the POST is "
                     f"{results.service_c1.post_share:.0%} of end-to-end time, the WAV "
                     f"download p50 {results.service_c1.download_p50_s * 1000:.0f} ms")
    if results.breakdown:
        parts = results.breakdown
        lines.append(f"  per request at concurrency 1 (medians, Serve access log): Synthesizer "
                     f"{parts['synthesizer_ms']:.0f} ms, Ingress +{parts['ingress_extra_ms']:.0f}"
                     f" ms, proxy/HTTP +{parts['proxy_http_extra_ms']:.0f} ms, download "
                     f"{parts['download_ms']:.0f} ms -> end to end / Synthesizer "
                     f"x{parts['end_to_end_over_synthesizer']:.3f}")
    if results.faster:
        lines.append(f"batched/unbatched throughput (audio s/s): "
                     f"x{results.batched_over_unbatched:.3f} -> {results.faster} is faster")
        pairs = zip(results.modes["batched"]["burst_audio_s_per_s"],
                    results.modes["unbatched"]["burst_audio_s_per_s"], strict=True)
        lines.append("  per burst round: " + ", ".join(f"x{b / u:.2f}" for b, u in pairs))
    if results.locust:
        lines += ["", f"locust (exit code {results.locust['exit_code']}):",
                  f"  {'name':<26}{'reqs':>6}{'fails':>6}{'req/s':>7}{'p50 ms':>8}{'p95 ms':>8}"]
        for row in [*results.locust["per_request"], results.locust["aggregated"]]:
            lines.append(f"  {row.get('Name', ''):<26}{row.get('Request Count', ''):>6}"
                         f"{row.get('Failure Count', ''):>6}{_f(row.get('Requests/s')):>7}"
                         f"{row.get('50%', ''):>8}{row.get('95%', ''):>8}")
    return "\n".join(lines)


def _f(value: str | None) -> str:
    try:
        return f"{float(value or 'nan'):.2f}"
    except ValueError:
        return str(value)


def _summary(results: Results) -> str:
    parts = []
    if results.raw and results.service_c1 and results.service_c8:
        verdict = "PASS" if results.overhead_c1 <= OVERHEAD_TARGET else "FAIL"
        parts += [
            f"raw RTF {results.raw.rtf:.3f}",
            f"service RTF c1 {results.service_c1.rtf:.3f} (x{results.overhead_c1:.2f} "
            f"{verdict} <= {OVERHEAD_TARGET})",
            f"c8 RTF {results.service_c8.rtf:.3f} p50 {results.service_c8.latency_p50_s:.1f} s "
            f"p95 {results.service_c8.latency_p95_s:.1f} s",
        ]
    if results.faster:
        parts.append(f"batched/unbatched x{results.batched_over_unbatched:.2f} "
                     f"({results.faster} faster)")
    return "SUMMARY " + " | ".join(parts)


def _jsonable(value: Any) -> Any:
    """asdict() output with NaN (not valid JSON) turned into null."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def run(plan: Plan, workdir: Path, with_locust: bool) -> Results:
    """Raw baseline next to the idle unbatched service, then both modes taking turns."""
    results = Results(
        machine={"cpus": os.cpu_count(), "platform": platform.platform(),
                 "python": platform.python_version()},
        plan={"sentences": len(plan.sentences), "sequential_rounds": plan.sequential_rounds,
              "burst_rounds": plan.burst_rounds, "burst_requests": len(plan.burst),
              "concurrency": CONCURRENCY},
    )
    engine = RawEngine()
    with closing(engine), services(["unbatched"], workdir) as first:
        with signed_up(first["unbatched"]) as plain:
            # The repo's serve_config.yaml is the unbatched mode: it is "the service" here. The
            # batched service starts only afterwards, so the baseline sees one idle service.
            print("[unbatched] sequential: raw engine and service interleaved", flush=True)
            log_start = first["unbatched"].log_size()
            raw, served = _sequential(engine, plain[0], plan)
            time.sleep(2.0)  # replica log lines reach `serve run`'s output with a delay
            results.breakdown = _breakdown(served, first["unbatched"].access_log(log_start))
            results.raw, results.service_c1 = Stats.of(raw), Stats.of(served)
            results.overhead_c1 = results.service_c1.rtf / results.raw.rtf
            pairs = list(zip(raw, served, strict=True))
            results.paired_overhead_median = _percentile(
                sorted((s.wall_s / s.audio_s) / (r.wall_s / r.audio_s) for r, s in pairs), 50)
            results.paired_overhead_ms_median = _percentile(
                sorted((s.wall_s - r.wall_s) * 1000 for r, s in pairs), 50)

            bursts: dict[str, list[tuple[list[Sample], float]]] = {mode: [] for mode in MODES}
            with services(["batched"], workdir) as second, signed_up(second["batched"]) as batch:
                clients = {"unbatched": plain, "batched": batch}
                for round_index in range(plan.burst_rounds):
                    # ABBA order: neither mode always runs right after the other.
                    order = list(MODES) if round_index % 2 == 0 else list(reversed(MODES))
                    for mode in order:
                        print(f"[{mode}] concurrency {CONCURRENCY}: burst {round_index + 1}/"
                              f"{plan.burst_rounds} of {len(plan.burst)} requests", flush=True)
                        bursts[mode].append(_concurrent(clients[mode], plan.burst))
        for mode, runs in bursts.items():
            samples = [sample for batch, _ in runs for sample in batch]
            results.modes[mode] = {
                **MODES[mode],
                "c8": Stats.of(samples, sum(elapsed for _, elapsed in runs)),
                "burst_audio_s_per_s": [sum(s.audio_s for s in batch) / elapsed
                                        for batch, elapsed in runs],
            }
        results.service_c8 = results.modes["unbatched"]["c8"]
        if with_locust:  # the batched service is gone again: locust sees the repo config alone
            results.locust = _run_locust(first["unbatched"].url, workdir)

    unbatched = results.modes["unbatched"]["c8"].audio_s_per_s
    batched = results.modes["batched"]["c8"].audio_s_per_s
    results.batched_over_unbatched = batched / unbatched
    results.faster = "batched" if batched > unbatched else "unbatched"
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table and summary, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer sentences/rounds")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--locust", action="store_true",
                        help="run loadtests/locustfile.py headless against the unbatched service")
    parser.add_argument("--raw-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.raw_worker:
        return _raw_worker()

    # SIGTERM should stop the services too: turn it into the same unwinding as Ctrl-C.
    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="voxify-bench-") as tmp:
        results = run(QUICK if args.quick else FULL, Path(tmp), args.locust)
    print()
    print(_report(results))
    print(f"(total benchmark time {time.perf_counter() - started:.0f} s)")
    print(_summary(results))
    if args.json:
        args.json.write_text(json.dumps(_jsonable(asdict(results)), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
