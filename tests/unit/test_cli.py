"""`voxify serve`: the shipped serve_config.yaml, fitted to the machine it starts on."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from voxify.cli import REPO_CONFIG, serve_config
from voxify.config import XTTS_POOL


def args(tmp_path: Path, grpc_port: int = 9124) -> argparse.Namespace:
    return argparse.Namespace(
        config=str(REPO_CONFIG),
        port=9123,
        grpc_port=grpc_port,
        host="127.0.0.1",
        data_dir=str(tmp_path / "data"),
    )


def xtts_pool(config: dict[str, Any]) -> dict[str, Any] | None:
    deployments = config["applications"][0]["deployments"]
    return next((d for d in deployments if d["name"] == XTTS_POOL), None)


def test_without_a_model_there_is_no_xtts_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VOXIFY_XTTS_MODEL_DIR", raising=False)
    config = serve_config(args(tmp_path), cuda=True)
    assert xtts_pool(config) is None
    assert config["http_options"]["port"] == 9123
    assert config["applications"][0]["args"]["data_dir"] == str((tmp_path / "data").resolve())


def test_grpc_listens_on_its_own_port_unless_turned_off(tmp_path: Path) -> None:
    grpc = serve_config(args(tmp_path), cuda=False)["grpc_options"]
    assert grpc["port"] == 9124
    # Serve's proxy imports this in its own process: it must name the generated function.
    assert grpc["grpc_servicer_functions"] == [
        "voxify.grpc.voxify_pb2_grpc.add_VoxifyServicer_to_server"
    ]
    from voxify.grpc.voxify_pb2_grpc import add_VoxifyServicer_to_server

    assert callable(add_VoxifyServicer_to_server)
    assert "grpc_options" not in serve_config(args(tmp_path, grpc_port=0), cuda=False)
    with pytest.raises(SystemExit, match="cannot share port 9123"):
        serve_config(args(tmp_path, grpc_port=9123), cuda=False)


def test_the_xtts_pool_asks_for_a_gpu_where_there_is_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOXIFY_XTTS_MODEL_DIR", str(tmp_path / "xtts"))
    for cuda in (True, None):  # a local GPU, or a cluster that decides
        pool = xtts_pool(serve_config(args(tmp_path), cuda=cuda))
        assert pool is not None and pool["ray_actor_options"]["num_gpus"] == 0.5
        assert pool["autoscaling_config"]["max_replicas"] > 1


def test_without_a_gpu_one_xtts_replica_runs_on_the_cpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOXIFY_XTTS_MODEL_DIR", str(tmp_path / "xtts"))
    pool = xtts_pool(serve_config(args(tmp_path), cuda=False))
    assert pool is not None
    assert pool["ray_actor_options"]["num_gpus"] == 0
    assert pool["ray_actor_options"]["num_cpus"] == 0
    assert pool["autoscaling_config"]["max_replicas"] == 1


def test_only_a_local_ray_is_fitted_to_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from voxify.cli import _local_cuda

    monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
    assert _local_cuda() is None  # a cluster: its own resources decide
    for local in ("local", ""):
        monkeypatch.setenv("RAY_ADDRESS", local)
        assert _local_cuda() is torch.cuda.is_available()


def pool(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(d for d in config["applications"][0]["deployments"] if d["name"] == name)


def test_pools_are_capped_at_the_replicas_this_machine_can_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VOXIFY_XTTS_MODEL_DIR", raising=False)
    shipped = pool(serve_config(args(tmp_path), cuda=None, cpus=None), "Synthesizer")
    assert shipped["autoscaling_config"]["max_replicas"] == 2  # a cluster: as configured
    # 2 cores: Ingress 0.5 + Synthesizer 1 + Embedder 0.25 + one job task 0.25 leave no room
    # for a second Synthesizer replica, which Ray would keep pending forever.
    small = pool(serve_config(args(tmp_path), cuda=False, cpus=2), "Synthesizer")
    assert small["autoscaling_config"]["max_replicas"] == 1
    assert small["autoscaling_config"]["initial_replicas"] == 1
    large = pool(serve_config(args(tmp_path), cuda=False, cpus=8), "Synthesizer")
    assert large["autoscaling_config"]["max_replicas"] == 2


def test_a_fitted_config_never_asks_for_more_cpus_than_there_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VOXIFY_XTTS_MODEL_DIR", raising=False)
    for cpus in (2, 3, 4, 6):
        app = serve_config(args(tmp_path), cuda=False, cpus=cpus)["applications"][0]
        needed = float(app["args"]["job_task_num_cpus"])
        for deployment in app["deployments"]:
            replicas = (deployment.get("autoscaling_config") or {}).get(
                "max_replicas", deployment.get("num_replicas", 1)
            )
            needed += replicas * deployment["ray_actor_options"]["num_cpus"]
        assert needed <= cpus, (cpus, needed)
