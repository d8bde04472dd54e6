"""Load drivers: sequential raw-vs-service pairs, concurrent bursts, locust, and breakdowns."""

from __future__ import annotations

import csv
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from .client import Client
from .config import BIN, CONCURRENCY, SENTENCES, Plan
from .piper_server import PiperClient, PiperServer
from .service import Service
from .stats import Sample, percentile

LOCUSTFILE = Path(__file__).resolve().parents[1] / "locustfile.py"


class Caller(Protocol):
    """Anything that synthesizes one text and says how long it took: a client, the raw engine."""

    def synthesize(self, text: str) -> Sample: ...


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


@contextmanager
def piper_callers(server: PiperServer) -> Iterator[list[PiperClient]]:
    """CONCURRENCY callers of Piper's own HTTP server, warmed up like the service's."""
    clients = [PiperClient(server.url) for _ in range(CONCURRENCY)]
    try:
        print("[piper-server] warming up", flush=True)
        _warm_up(clients)
        yield clients
    finally:
        for client in clients:
            client.close()


def concurrent(clients: Sequence[Caller], texts: Sequence[str]) -> tuple[list[Sample], float]:
    """Serve all texts with one thread per client pulling from a shared queue."""
    work: queue.SimpleQueue[str] = queue.SimpleQueue()
    for text in texts:
        work.put(text)
    samples: list[Sample] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    gate = threading.Barrier(len(clients) + 1)

    def worker(client: Caller) -> None:
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


def _warm_up(clients: Sequence[Caller]) -> None:
    """Exercise every account and the whole request path (batched path too) once."""
    concurrent(clients, [SENTENCES[0]] * len(clients))
    clients[0].synthesize(SENTENCES[1])


def sequential(sides: dict[str, Caller], plan: Plan) -> dict[str, list[Sample]]:
    """Every side (idle apart from this one request) speaks each sentence in turn."""
    names = list(sides)
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    turn = 0
    for _ in range(plan.sequential_rounds):
        for text in plan.sentences:
            # Rotate who goes first, and reverse every other cycle, so slow drift in machine
            # load favours no side.
            order = names[turn % len(names) :] + names[: turn % len(names)]
            if (turn // len(names)) % 2:
                order.reverse()
            for name in order:
                samples[name].append(sides[name].synthesize(text))
            turn += 1
    return samples


def bursts(
    sides: dict[str, Sequence[Caller]], texts: Sequence[str], rounds: int, label: str = ""
) -> dict[str, list[tuple[list[Sample], float]]]:
    """Concurrency-8 bursts of ``texts``, the sides taking turns in ABBA order."""
    runs: dict[str, list[tuple[list[Sample], float]]] = {name: [] for name in sides}
    for round_index in range(rounds):
        # ABBA order: no side always runs right after another.
        order = list(sides) if round_index % 2 == 0 else list(reversed(list(sides)))
        for name in order:
            print(
                f"[{name}] {label}concurrency {CONCURRENCY}: burst {round_index + 1}/"
                f"{rounds} of {len(texts)} requests",
                flush=True,
            )
            runs[name].append(concurrent(sides[name], texts))
    return runs


def breakdown(samples: Sequence[Sample], timings: dict[str, dict[str, float]]) -> dict[str, float]:
    """Medians of where each request's time went, from the client and Serve's access log."""
    rows = [
        (sample, timings[sample.request_id])
        for sample in samples
        if {"synth", "post"} <= timings.get(sample.request_id, {}).keys()
    ]
    if not rows:
        return {}

    def median(values: list[float]) -> float:
        return percentile(sorted(values), 50)

    return {
        "requests": len(rows),
        "synthesizer_ms": median([t["synth"] for _, t in rows]),
        "ingress_extra_ms": median([t["post"] - t["synth"] for _, t in rows]),
        "proxy_http_extra_ms": median([s.post_s * 1000 - t["post"] for s, t in rows]),
        "download_ms": median([s.download_s * 1000 for s, _ in rows]),
        "end_to_end_over_synthesizer": median([s.wall_s * 1000 / t["synth"] for s, t in rows]),
    }


def run_locust(url: str, workdir: Path) -> dict[str, Any]:
    """The locust scenario, headless in its own process (gevent and ray must not mix)."""
    prefix = workdir / "locust"
    command = [
        str(BIN / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        url,
        "--csv",
        str(prefix),
        "--only-summary",
    ]
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
