"""A two-node Ray cluster on one machine for the multinode tests: a head and a second node as
separate `ray start --block` processes, each with its own temp dir, the state API over the
head's dashboard, and Voxify deployed on them over Postgres, S3 (moto) and a Chroma server.
Nothing here runs `ray stop` (it would stop every Ray on the machine): each node's processes
are found by their own process tree and temp dir, and only those end.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import psutil
import yaml
from moto.server import ThreadedMotoServer
from ray.util.state import list_nodes
from sqlalchemy import create_engine, text

from deployments.run import SERVE_ENV
from tests.chroma import free_port, start_chroma, stop_chroma
from tests.conftest import POSTGRES_ADMIN_URL
from voxify.cli import REPO_CONFIG

RAY_START = 90.0
SERVE_START = 240.0
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


@dataclass
class Cluster:
    """Where the deployed service, the state API, its database and its bucket are."""

    url: str
    dashboard_url: str
    database_url: str
    s3: Any
    head: Node
    worker: Node
    head_id: str
    worker_id: str


def _serve_config(args: dict[str, Any], http_port: int) -> dict[str, Any]:
    """serve_config.yaml with placement that puts work on both nodes."""
    config: dict[str, Any] = yaml.safe_load(REPO_CONFIG.read_text())
    config.pop("grpc_options", None)  # the gRPC door has its own tests
    config["http_options"]["port"] = http_port
    app = config["applications"][0]
    app["args"] = {**app["args"], **args}
    deployments = {d["name"]: d for d in app["deployments"]}
    ingress, synthesizer, embedder = (
        deployments["Ingress"],
        deployments["Synthesizer"],
        deployments["Embedder"],
    )
    ingress["ray_actor_options"]["resources"] = {"head_node": 0.01}
    # A replica on each node (Serve spreads; at most one a node makes it certain).
    synthesizer.pop("autoscaling_config")
    synthesizer["num_replicas"] = 2
    synthesizer["max_replicas_per_node"] = 1
    # Two Embedder replicas, both on the second node, over the one Chroma server.
    embedder["num_replicas"] = 2
    embedder["ray_actor_options"]["resources"] = {"worker_node": 0.01}
    app["deployments"] = [ingress, synthesizer, embedder]
    return config


@contextmanager
def voxify_cluster(work: Path, bucket: str) -> Iterator[Cluster]:
    """Postgres database, S3 and Chroma servers, two Ray nodes, Voxify deployed on them."""
    started = time.monotonic()
    name = f"voxify_mn_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    database_url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    aws = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    nodes: list[Node] = []
    moto = chroma = None
    try:
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        host, port = moto.get_host_and_port()
        s3_endpoint = f"http://{host}:{port}"
        s3 = boto3.client(
            "s3",
            endpoint_url=s3_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(Bucket=bucket)
        chroma, chroma_url = start_chroma(work / "chroma")
        env = node_env(
            {
                **SERVE_ENV,
                **aws,
                "PYTHONPATH": str(REPO_CONFIG.parent),
                "RAY_USAGE_STATS_ENABLED": "0",
                # Loopback only; a token file a developer made (~/.ray) must not switch it on.
                "RAY_AUTH_MODE": "disabled",
                # A dead node is noticed in seconds, not the default ~30 s.
                "RAY_health_check_period_ms": "1000",
                "RAY_health_check_timeout_ms": "1000",
                "RAY_health_check_failure_threshold": "3",
            }
        )
        gcs_port, dashboard_port = free_port(), free_port()
        dashboard_url = f"http://127.0.0.1:{dashboard_port}"
        # Logical CPUs (2 physical cores): the head has little room left after the ingress
        # and one Synthesizer, so Ray's hybrid policy sends job tasks to the second node.
        head = start_node(
            "head",
            env=env,
            num_cpus=2,
            resources={"head_node": 1},
            log_dir=work,
            head_port=gcs_port,
            dashboard_port=dashboard_port,
        )
        nodes.append(head)
        wait_for(
            lambda: httpx.get(f"{dashboard_url}/api/version", timeout=2).status_code == 200,
            RAY_START,
            "the head's dashboard",
        )
        worker = start_node(
            "worker",
            env=env,
            num_cpus=8,
            resources={"worker_node": 1},
            log_dir=work,
            head_address=f"127.0.0.1:{gcs_port}",
        )
        nodes.append(worker)
        alive = wait_for(
            lambda: len(_alive_nodes(dashboard_url)) == 2 and _alive_nodes(dashboard_url),
            RAY_START,
            "two alive nodes",
        )
        head_id = next(n["node_id"] for n in alive if "head_node" in n["resources_total"])
        worker_id = next(n["node_id"] for n in alive if "worker_node" in n["resources_total"])
        http_port = free_port()
        config = _serve_config(
            {
                "environment": "test",
                "data_dir": str(work / "data"),
                "jwt_secret": "multinode-secret-0123456789abcdef-xyz",
                "database_url": database_url,
                "blob_url": f"s3://{bucket}/voxify",
                "s3_endpoint_url": s3_endpoint,
                "vector_url": chroma_url,
                "kokoro_dir": str(work / "no-kokoro"),  # Piper only: Kokoro adds minutes here
                "job_stale_after_s": 5,
                "job_heartbeat_s": 1,
                "requests_per_minute": 100_000,
                "clone_engines": ["piper"],
            },
            http_port,
        )
        config_path = work / "serve_config.yaml"
        config_path.write_text(yaml.safe_dump(config))
        serve_deploy(config_path, dashboard_url, env)
        url = f"http://127.0.0.1:{http_port}"
        wait_for(
            lambda: httpx.get(f"{url}/api/v1/health", timeout=5).status_code == 200,
            SERVE_START,
            "a healthy service",
            interval=1,
        )
        for node in nodes:
            node.remember()
        print(f"multinode cluster up in {time.monotonic() - started:.1f} s")
        yield Cluster(
            url=url,
            dashboard_url=dashboard_url,
            database_url=database_url,
            s3=s3,
            head=head,
            worker=worker,
            head_id=head_id,
            worker_id=worker_id,
        )
    finally:
        for node in reversed(nodes):
            node.stop()
        if chroma is not None:
            stop_chroma(chroma)
        if moto is not None:
            moto.stop()
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _alive_nodes(dashboard_url: str) -> list[dict[str, Any]]:
    """The cluster's alive nodes as the state API reports them."""
    return [
        node.__dict__
        for node in list_nodes(address=dashboard_url, detail=True)
        if node.state == "ALIVE"
    ]
