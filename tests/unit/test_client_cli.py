"""The `voxify` client commands, run as a person would: subprocesses against a live server."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import soundfile as sf

from tests.unit.conftest import PASSWORD, serve_over_loopback
from voxify.api.context import Services
from voxify.client import Client

SPEECH = Path(__file__).parents[1] / "fixtures" / "speech"


@pytest.fixture
def url(make_services: Callable[..., Services]) -> Iterator[str]:
    with serve_over_loopback(make_services()) as address:
        yield address


def _voxify(
    home: Path, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOXIFY_")}
    env.update({"XDG_CONFIG_HOME": str(home), **(extra_env or {})})
    return subprocess.run(
        [sys.executable, "-m", "voxify.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_login_say_clone_jobs_voices(url: str, tmp_path: Path) -> None:
    with Client(url) as client:
        client.register("cli@example.com", PASSWORD, "Cli", "User")
    home = tmp_path / "config"

    login = _voxify(
        home, "login", "--url", url, "--email", "cli@example.com", "--password", PASSWORD
    )
    assert login.returncode == 0, login.stderr
    stored = home / "voxify" / "credentials.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600 and "vx_" in stored.read_text()

    out = tmp_path / "hello.flac"
    said = _voxify(home, "say", "Hello from the command line.", "-o", str(out))
    assert said.returncode == 0, said.stderr
    samples, rate = sf.read(out)
    assert rate == 22050 and len(samples) / rate > 1.0

    cloned = _voxify(
        home, "clone", str(SPEECH / "librivox_male_0870.wav"), "--name", "Terminal voice"
    )
    assert cloned.returncode == 0, cloned.stderr
    assert "training: [" in cloned.stderr and "100.0%" in cloned.stderr  # the live bar
    clone_id = cloned.stdout.split("clone ", 1)[1].split()[0]

    voices = _voxify(home, "voices")
    assert voices.returncode == 0 and clone_id in voices.stdout
    spoken = _voxify(home, "say", "It is me.", "-v", clone_id, "-o", str(tmp_path / "me.wav"))
    assert spoken.returncode == 0, spoken.stderr and clone_id in spoken.stdout
    jobs = _voxify(home, "jobs")
    assert jobs.returncode == 0 and "clone_training" in jobs.stdout


def test_errors_are_one_line(url: str, tmp_path: Path) -> None:
    home = tmp_path / "config"
    not_signed_in = _voxify(home, "voices")
    assert not_signed_in.returncode == 1
    assert not_signed_in.stderr.strip().splitlines() == [
        "voxify: error: not signed in: run `voxify login` (or set VOXIFY_API_KEY)"
    ]
    wrong = _voxify(home, "login", "--url", url, "--email", "no@example.com", "--password", "x")
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    assert wrong.stderr.startswith("voxify: error:") and len(wrong.stderr.splitlines()) == 1
    down = _voxify(
        home,
        "voices",
        extra_env={"VOXIFY_URL": "http://127.0.0.1:9", "VOXIFY_API_KEY": "vx_0_x"},
    )
    assert down.returncode == 1 and "Cannot reach" in down.stderr and "Traceback" not in down.stderr
