"""`voxify wyoming` driven by the wyoming package's own client over loopback."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncClient as WyomingClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)

from tests.unit.conftest import PASSWORD, add_ready_clone, serve_over_loopback
from voxify.api.app import create_app
from voxify.api.context import Services
from voxify.client import Client


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def wyoming_uri(
    make_client: Callable[..., Any], make_services: Callable[..., Services]
) -> Iterator[tuple[str, str]]:
    services = make_services()
    with serve_over_loopback(services) as url:
        with Client(url) as client:
            client.register("wyoming@example.com", PASSWORD, "Home", "Assistant")
            client.login("wyoming@example.com", PASSWORD)
            key = client.create_api_key("home assistant")["key"]
        clone_id = add_ready_clone(TestClient(create_app(services)), "wyoming@example.com")
        uri = f"tcp://127.0.0.1:{_port()}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOXIFY_")}
        env.update({"VOXIFY_URL": url, "VOXIFY_API_KEY": key})
        server = subprocess.Popen(
            [sys.executable, "-m", "voxify.cli", "wyoming", "--uri", uri],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            host, port = uri.removeprefix("tcp://").split(":")
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection((host, int(port)), timeout=1).close()
                    break
                except OSError:
                    assert server.poll() is None, server.stderr.read() if server.stderr else ""
                    assert time.monotonic() < deadline, "wyoming server did not start"
                    time.sleep(0.1)
            yield uri, clone_id
        finally:
            server.terminate()
            server.wait(timeout=10)


async def _exchange(uri: str, events: list[Event], until: Callable[[Event], bool]) -> list[Event]:
    received: list[Event] = []
    async with WyomingClient.from_uri(uri) as client:
        for event in events:
            await client.write_event(event)
        while True:
            event = await asyncio.wait_for(client.read_event(), timeout=60)
            assert event is not None, "the server hung up"
            received.append(event)
            if until(event):
                return received


def _audio(events: list[Event]) -> list[bytes]:
    """Each audio-start ... audio-stop segment's PCM."""
    segments: list[bytes] = []
    for event in events:
        if AudioStart.is_type(event.type):
            start = AudioStart.from_event(event)
            assert (start.rate, start.width, start.channels) == (22050, 2, 1)
            segments.append(b"")
        elif AudioChunk.is_type(event.type):
            segments[-1] += AudioChunk.from_event(event).audio
    return segments


def test_describe_lists_presets_and_the_users_clone(wyoming_uri: tuple[str, str]) -> None:
    uri, clone_id = wyoming_uri
    events = asyncio.run(_exchange(uri, [Describe().event()], lambda e: Info.is_type(e.type)))
    info = Info.from_event(events[-1])
    program = info.tts[0]
    names = [voice.name for voice in program.voices]
    assert "default_voice_001" in names and clone_id in names
    assert program.supports_synthesize_streaming


def test_synthesize_and_streaming_synthesis(wyoming_uri: tuple[str, str]) -> None:
    uri, clone_id = wyoming_uri
    whole = asyncio.run(
        _exchange(
            uri,
            [Synthesize(text="Hello from Voxify over Wyoming.").event()],
            lambda e: AudioStop.is_type(e.type),
        )
    )
    (pcm,) = _audio(whole)
    assert len(pcm) / 2 / 22050 > 1.0

    voice = SynthesizeVoice(name=clone_id)
    streamed = asyncio.run(
        _exchange(
            uri,
            [
                SynthesizeStart(voice=voice).event(),
                SynthesizeChunk(text="The first sentence is here. The sec").event(),
                SynthesizeChunk(text="ond one came in pieces. And a third").event(),
                SynthesizeStop().event(),
                Synthesize(text="ignored while streaming", voice=voice).event(),
            ],
            lambda e: SynthesizeStopped.is_type(e.type),
        )
    )
    segments = _audio(streamed)
    assert len(segments) == 3 and all(len(s) / 2 / 22050 > 0.5 for s in segments)


def test_errors_are_wyoming_errors(wyoming_uri: tuple[str, str]) -> None:
    uri, _ = wyoming_uri
    events = asyncio.run(
        _exchange(
            uri,
            [Synthesize(text="Hello.", voice=SynthesizeVoice(name="nobody")).event()],
            lambda e: Error.is_type(e.type),
        )
    )
    error = Error.from_event(events[-1])
    assert error.code == "NOT_FOUND" and "nobody" in error.text
