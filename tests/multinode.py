"""A two-node Ray cluster on one machine for the multinode tests: a head and a second node as
separate `ray start --block` processes, each with its own temp dir, and the state API over
the head's dashboard. Nothing here runs `ray stop` (it would stop every Ray on the machine):
each node's processes are found by their own process tree and temp dir, and only those end.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.chroma import free_port

RAY_START_S = 90.0
BIN = Path(sys.executable).parent


@dataclass
class Node:
    """One `ray start --block` process group and the temp dir its processes name."""

    name: str
    process: subprocess.Popen[bytes]
    temp_dir: Path
    log_dir: Path
    tree: set[int] = field(default_factory=set)

    def processes(self) -> list[psutil.Process]:
        """This node's live processes: its tree, and any process naming its temp dir."""
        found: dict[int, psutil.Process] = {}
        try:
            root = psutil.Process(self.process.pid)
            for proc in [root, *root.children(recursive=True)]:
                found[proc.pid] = proc
        except psutil.NoSuchProcess:
            pass
        for pid in self.tree:
            if pid not in found and psutil.pid_exists(pid):
                found[pid] = psutil.Process(pid)
        marker = str(self.temp_dir)
        for proc in psutil.process_iter(["pid", "cmdline"]):
            try:
                if any(marker in part for part in proc.info["cmdline"] or ()):
                    found.setdefault(proc.pid, proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return list(found.values())

    def remember(self) -> None:
        """Note the current process tree, so that teardown finds orphans of a killed parent."""
        self.tree |= {proc.pid for proc in self.processes()}

    def raylet(self) -> psutil.Process:
        """This node's raylet process."""
        for proc in self.processes():
            try:
                if proc.name() == "raylet":
                    return proc
            except psutil.NoSuchProcess:
                continue
        raise LookupError(f"no raylet under {self.name}")

    def stop(self) -> None:
        """SIGKILL every process of this node (a graceful stop drains for 30 s), then its dir."""
        self.remember()
        for proc in self.processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        self.process.wait(timeout=10)
        with contextlib.suppress(OSError):  # its logs stay with the test's temp dir
            shutil.copytree(self.temp_dir / "session_latest" / "logs", self.log_dir / self.name)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def node_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment a node's processes (and so its workers) run with."""
    env = {**os.environ, **extra}
    env.pop("RAY_ADDRESS", None)
    return env


def start_node(
    name: str,
    *,
    env: dict[str, str],
    num_cpus: float,
    resources: dict[str, float],
    log_dir: Path,
    head_port: int | None = None,
    head_address: str | None = None,
    dashboard_port: int | None = None,
) -> Node:
    """`ray start --block` a head (head_port) or a node joining head_address."""
    # Short temp dirs: Ray puts Unix sockets under them (a path of at most 107 bytes).
    temp_dir = Path(tempfile.mkdtemp(prefix=f"vxmn-{name}-"))
    command = [
        str(BIN / "ray"),
        "start",
        "--block",
        "--disable-usage-stats",
        f"--temp-dir={temp_dir}",
        "--node-ip-address=127.0.0.1",
        f"--num-cpus={num_cpus:g}",
        "--num-gpus=0",
        f"--resources={json.dumps(resources)}",
        # Each node's own agent ports: the defaults are fixed numbers two nodes would share.
        f"--dashboard-agent-listen-port={free_port()}",
        f"--dashboard-agent-grpc-port={free_port()}",
        f"--runtime-env-agent-port={free_port()}",
        f"--metrics-export-port={free_port()}",
    ]
    if head_port is not None:
        command += [
            "--head",
            f"--port={head_port}",
            f"--ray-client-server-port={free_port()}",
            # The head's dashboard serves the state API and `serve deploy`; local only.
            "--include-dashboard=true",
            "--dashboard-host=127.0.0.1",
            f"--dashboard-port={dashboard_port}",
        ]
    else:
        command += [f"--address={head_address}"]
    log = (log_dir / f"ray-{name}.log").open("ab")
    process = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    log.close()
    return Node(name=name, process=process, temp_dir=temp_dir, log_dir=log_dir)


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.5) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except (httpx.HTTPError, ConnectionError, OSError) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not within {timeout:g} s (last: {last!r})")


def serve_deploy(config: Path, dashboard_url: str, env: dict[str, str]) -> None:
    """`serve deploy` the config to the cluster through the head's dashboard."""
    subprocess.run(
        [str(BIN / "serve"), "deploy", str(config), "--address", dashboard_url],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def serve_details(dashboard_url: str) -> dict[str, Any]:
    """Serve's own view of its applications (deployments, replicas and their nodes)."""
    response = httpx.get(f"{dashboard_url}/api/serve/applications/", timeout=10)
    response.raise_for_status()
    details: dict[str, Any] = response.json()
    return details


def replicas(dashboard_url: str, deployment: str) -> list[dict[str, Any]]:
    """One deployment's replicas as Serve reports them (state, node_id, pid, actor_id)."""
    app = serve_details(dashboard_url)["applications"].get("voxify", {})
    found: list[dict[str, Any]] = app.get("deployments", {}).get(deployment, {}).get("replicas", [])
    return found
