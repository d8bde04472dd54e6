"""The `voxify` commands for people at a terminal, on the Python client: login, say, clone,
jobs, voices, and a Wyoming server for Home Assistant. Errors are one line on stderr and exit
status 1, never a traceback."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voxify.client import ApiError, Client, ConnectionFailed, JobFailed

DEFAULT_URL = "http://127.0.0.1:8000"
BAR_WIDTH = 30


def credentials_path() -> Path:
    """Where `voxify login` keeps the service URL and API key (mode 0600)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "voxify" / "credentials.json"


def add_commands(commands: Any) -> None:
    """Add login, say, clone, jobs and voices to the `voxify` command's subparsers."""
    login = commands.add_parser("login", help="sign in and store an API key for these commands")
    login.add_argument("--url", default=os.environ.get("VOXIFY_URL", DEFAULT_URL))
    login.add_argument("--email", help="asked for when not given")
    login.add_argument("--password", help="asked for (not echoed) when not given")
    login.set_defaults(func=_guarded(_login))

    say = commands.add_parser("say", help="speak text with the service into a file")
    say.add_argument("text")
    say.add_argument("-v", "--voice", default=None, help="a voice id (see `voxify voices`)")
    say.add_argument("-o", "--output", default="speech.wav", help="format from the suffix")
    say.add_argument("--speed", type=float, default=1.0)
    say.add_argument("--pitch", type=float, default=1.0)
    say.add_argument("--play", action="store_true", help="play it (ffplay or aplay)")
    say.set_defaults(func=_guarded(_say))

    clone = commands.add_parser("clone", help="clone a voice from recordings, with progress")
    clone.add_argument("recordings", nargs="+", type=Path)
    clone.add_argument("--name", required=True)
    clone.add_argument("--language", default="en-US")
    clone.set_defaults(func=_guarded(_clone))

    jobs = commands.add_parser("jobs", help="list your jobs")
    jobs.add_argument("--status", default=None)
    jobs.add_argument("--limit", type=int, default=20)
    jobs.set_defaults(func=_guarded(_jobs))

    voices = commands.add_parser("voices", help="list the voices you can speak with")
    voices.set_defaults(func=_guarded(_voices))

    wyoming = commands.add_parser(
        "wyoming", help="serve Wyoming TTS (Home Assistant) through this Voxify account"
    )
    wyoming.add_argument("--uri", default="tcp://0.0.0.0:10200", help="tcp://host:port or unix://")
    wyoming.set_defaults(func=_guarded(_wyoming))


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (ApiError, ConnectionFailed, JobFailed, OSError) as exc:
            message = exc.message if isinstance(exc, ApiError) else str(exc)
            code = f" ({exc.code})" if isinstance(exc, ApiError) else ""
            print(f"voxify: error: {message}{code}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("voxify: interrupted", file=sys.stderr)
            return 130

    return run


def _client() -> Client:
    url, key = _credentials()
    return Client(url, api_key=key)


def _credentials() -> tuple[str, str]:
    """The service URL and API key: VOXIFY_URL / VOXIFY_API_KEY, else what login stored."""
    url = os.environ.get("VOXIFY_URL")
    key = os.environ.get("VOXIFY_API_KEY")
    path = credentials_path()
    if not key and path.exists():
        stored = json.loads(path.read_text())
        url, key = url or stored.get("url"), stored.get("key")
    if not key:
        raise OSError("not signed in: run `voxify login` (or set VOXIFY_API_KEY)")
    return url or DEFAULT_URL, key


def _login(args: argparse.Namespace) -> int:
    email = args.email or input("Email: ")
    password = args.password or getpass.getpass("Password: ")
    with Client(args.url) as client:
        client.login(email, password)
        key = client.create_api_key(f"voxify CLI on {socket.gethostname()}")
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"url": args.url, "key": key["key"], "key_id": key["key_id"]}, handle)
    os.chmod(path, 0o600)  # also when the file existed with looser bits
    print(f"signed in to {args.url} as {email}; key {key['prefix']}… stored in {path}")
    return 0


def _say(args: argparse.Namespace) -> int:
    output = Path(args.output)
    fmt = output.suffix.lstrip(".").lower() or "wav"
    with _client() as client:
        info = client.synthesize_to_file(
            output, args.text, voice_id=args.voice, format=fmt, speed=args.speed, pitch=args.pitch
        )
    print(f"wrote {output} ({info['duration']:.2f} s, voice {info['voice_id']})")
    if args.play:
        _play(output)
    return 0


def _play(path: Path) -> None:
    for player, flags in (
        ("ffplay", ["-nodisp", "-autoexit", "-loglevel", "quiet"]),
        ("aplay", []),
    ):
        if shutil.which(player):
            subprocess.run([player, *flags, str(path)], check=False)
            return
    raise OSError("no player found: install ffmpeg (ffplay) or alsa-utils (aplay)")


def _clone(args: argparse.Namespace) -> int:
    with _client() as client:
        sample_ids = []
        for recording in args.recordings:
            sample = client.upload_sample(recording, name=recording.stem, language=args.language)
            processed = client.process_sample(
                sample["sample_id"], on_progress=_bar(f"checking {recording.name}")
            )
            _done()
            report = processed.get("quality_score")
            print(f"{recording.name}: ready (quality {report})")
            sample_ids.append(sample["sample_id"])
        clone = client.create_clone(sample_ids, args.name, on_progress=_bar("training"))
        _done()
    print(f'clone {clone["clone_id"]} ready: voxify say "Hello" -v {clone["clone_id"]}')
    return 0


def _bar(label: str) -> Callable[[dict[str, Any]], None]:
    """A progress bar on stderr that redraws in place as events arrive."""

    def draw(event: dict[str, Any]) -> None:
        progress = max(0.0, min(100.0, float(event.get("progress") or 0)))
        filled = round(BAR_WIDTH * progress / 100)
        message = str(event.get("message") or "")[:40]
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        sys.stderr.write(f"\r{label}: [{bar}] {progress:5.1f}% {message:<40}")
        sys.stderr.flush()

    return draw


def _done() -> None:
    sys.stderr.write("\n")
    sys.stderr.flush()


def _jobs(args: argparse.Namespace) -> int:
    with _client() as client:
        jobs = client.jobs(status=args.status, limit=args.limit)
    for job in jobs:
        title = (job.get("title") or "")[:48]
        print(
            f"{job['id']}  {job['type']:<16} {job['status']:<10} {job['progress']:5.1f}%  {title}"
        )
    if not jobs:
        print("no jobs")
    return 0


def _voices(args: argparse.Namespace) -> int:
    with _client() as client:
        voices = client.voices(limit=100)
    for voice in voices:
        print(
            f"{voice['voice_model_id']:<32} {voice['type']:<8} {voice['engine']:<6} {voice['name']}"
        )
    return 0


def _wyoming(args: argparse.Namespace) -> int:
    from voxify.client.aio import AsyncClient
    from voxify.client.wyoming import serve

    url, key = _credentials()
    print(f"Wyoming TTS on {args.uri}, speaking through {url}", flush=True)
    asyncio.run(serve(args.uri, AsyncClient(url, api_key=key)))
    return 0
