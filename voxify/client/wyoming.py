"""A Wyoming TTS server (Home Assistant's local voice protocol) that speaks through Voxify.

`voxify wyoming --uri tcp://0.0.0.0:10200` answers ``describe`` with every voice the API key's
owner may use (presets and their clones), ``synthesize`` with audio-start, audio-chunk... and
audio-stop as the service renders, and streaming requests (``synthesize-start``, text chunks,
``synthesize-stop``) sentence by sentence as the text arrives, then ``synthesize-stopped``.
"""

from __future__ import annotations

import asyncio
import re
from functools import partial

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.server import AsyncEventHandler, AsyncServer
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)

from voxify import __version__
from voxify.client.aio import AsyncClient
from voxify.client.errors import ApiError, ConnectionFailed

RATE = 22050  # every voice is delivered at this rate, as 16-bit mono PCM
WIDTH = 2
CHUNK_BYTES = 2048 * WIDTH  # audio-chunk events of 2048 samples
ATTRIBUTION = Attribution(name="Voxify", url="https://github.com/voxify")
# A sentence ends at . ! ? (or their CJK forms) followed by space: speak it while more arrives.
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


class VoxifyHandler(AsyncEventHandler):
    """One Wyoming connection."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        client: AsyncClient,
    ) -> None:
        super().__init__(reader, writer)
        self.client = client
        self._pending: str | None = None  # streamed text not yet spoken (None: not streaming)
        self._voice: str | None = None

    async def handle_event(self, event: Event) -> bool:
        try:
            await self._handle(event)
        except (ApiError, ConnectionFailed) as exc:
            code = exc.code if isinstance(exc, ApiError) else "CONNECTION_FAILED"
            message = exc.message if isinstance(exc, ApiError) else str(exc)
            await self.write_event(Error(text=message, code=code).event())
        return True

    async def _handle(self, event: Event) -> None:
        if Describe.is_type(event.type):
            await self.write_event((await self._info()).event())
        elif SynthesizeStart.is_type(event.type):
            self._pending, self._voice = "", _voice_name(SynthesizeStart.from_event(event).voice)
        elif SynthesizeChunk.is_type(event.type) and self._pending is not None:
            self._pending += SynthesizeChunk.from_event(event).text
            *sentences, self._pending = _SENTENCE_END.split(self._pending)
            for sentence in sentences:
                await self._speak(sentence, self._voice)
        elif SynthesizeStop.is_type(event.type) and self._pending is not None:
            rest, self._pending = self._pending, None
            if rest.strip():
                await self._speak(rest, self._voice)
            await self.write_event(SynthesizeStopped().event())
        elif Synthesize.is_type(event.type) and self._pending is None:
            # (Clients that stream also send the whole text as one synthesize: ignored then.)
            request = Synthesize.from_event(event)
            await self._speak(request.text, _voice_name(request.voice))

    async def _info(self) -> Info:
        voices = [
            TtsVoice(
                name=voice["voice_model_id"],
                description=voice["name"],
                attribution=ATTRIBUTION,
                installed=True,
                version=None,
                languages=list(voice.get("languages") or [voice["language"]]),
            )
            for voice in await self.client.voices(limit=100)
        ]
        program = TtsProgram(
            name="voxify",
            description="Voxify text to speech: presets and your own voice clones",
            attribution=ATTRIBUTION,
            installed=True,
            version=__version__,
            voices=voices,
            supports_synthesize_streaming=True,
        )
        return Info(tts=[program])

    async def _speak(self, text: str, voice: str | None) -> None:
        if not text.strip():
            return
        stream = self.client.stream(text, voice_id=voice, format="pcm", sample_rate=RATE)
        started = False
        buffer = b""
        async for piece in stream:
            if not started:  # the first piece exists: the request was accepted
                await self.write_event(AudioStart(rate=RATE, width=WIDTH, channels=1).event())
                started = True
            buffer += piece
            while len(buffer) >= CHUNK_BYTES:
                chunk, buffer = buffer[:CHUNK_BYTES], buffer[CHUNK_BYTES:]
                await self._chunk(chunk)
        if buffer:
            await self._chunk(buffer)
        if started:
            await self.write_event(AudioStop().event())

    async def _chunk(self, audio: bytes) -> None:
        await self.write_event(AudioChunk(rate=RATE, width=WIDTH, channels=1, audio=audio).event())


def _voice_name(voice: SynthesizeVoice | None) -> str | None:
    return voice.name if voice is not None and voice.name else None


async def serve(uri: str, client: AsyncClient) -> None:
    """Answer Wyoming clients at ``uri`` (tcp://host:port or unix://path) until cancelled."""
    server = AsyncServer.from_uri(uri)
    await server.run(partial(VoxifyHandler, client=client))
