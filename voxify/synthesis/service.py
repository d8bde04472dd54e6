"""SynthesisService: every door's synthesis goes through here, so every rule holds at every door.

Validate options (format x sample rate x engine, text length), clean the text, resolve the
voice, charge the daily quota, render on the engine pool, encode, store; give the quota back
when the pool sheds the request. Jobs are admitted here too and rendered by their handler
(voxify/synthesis/job.py) through the same planning.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from voxify import limits
from voxify.audio.stream_encode import stream_encoder
from voxify.config import Settings
from voxify.db.models import File, User
from voxify.db.session import session_scope
from voxify.errors import SynthesisFailed, Unavailable
from voxify.files import repository as files_repository
from voxify.files.service import discard, write_audio
from voxify.ports import Synthesis
from voxify.speech import Audio, Chunk, SynthesisRequest
from voxify.storage import BlobStore
from voxify.synthesis.options import Admitted, Door, Speech, plan_request
from voxify.text import clean_text
from voxify.voices.catalogue import VoiceCatalogue
from voxify.voices.library import Voice


@dataclass(frozen=True)
class Synthesized:
    """A stored synthesis: its file row, the voice that spoke, the audio (with word timings
    if asked for) and the encoded bytes that were stored."""

    file: File
    voice: Voice
    audio: Audio
    data: bytes


@dataclass
class SpeechStream:
    """An admitted stream whose first chunk exists: what a response needs to begin."""

    admitted: Admitted
    first: Chunk
    rest: AsyncGenerator[Chunk, None]

    async def encoded(self, fmt: str) -> AsyncIterator[bytes]:
        """The speech as bytes of ``fmt``, each piece encoded (on a worker thread) and
        handed on as soon as it is rendered; empty pieces are skipped."""
        encoder = stream_encoder(fmt, self.first.audio.sample_rate)
        async for chunk in self.chunks():
            encoded = await asyncio.to_thread(encoder.feed, chunk.audio.samples)
            if encoded:
                yield encoded
        tail = await asyncio.to_thread(encoder.close)
        if tail:
            yield tail

    async def chunks(self) -> AsyncIterator[Chunk]:
        """The first chunk, then the rest; the pool's stream is closed however this ends."""
        try:
            yield self.first
            async for chunk in self.rest:
                yield chunk
        finally:
            await self.rest.aclose()


class SynthesisService:
    """The synthesis rules and steps, over the engine pools (the Synthesis port)."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        catalogue: VoiceCatalogue,
        synthesis: Synthesis,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.blobs = blobs
        self.catalogue = catalogue
        self.synthesis = synthesis

    def admit(
        self, *, session: Session, user: User, speech: Speech, door: Door, charge: bool = True
    ) -> Admitted:
        """Apply every rule to ``speech`` and (with ``charge``) count it against the quota.

        Raises before anything is rendered, charged or queued: bad text, unknown or foreign
        voice, a language the voice does not speak, a format that cannot carry the rate.
        """
        text = clean_text(speech.text, max_chars=door.max_chars(self.settings))
        voice = self.catalogue.resolve(
            session=session, user=user, voice_id=speech.voice_id, language=speech.language
        )
        request = plan_request(voice, speech, text=text)
        if charge:
            limits.hit_daily(
                session=session,
                key=limits.synthesis_key(user.id),
                limit=self.settings.syntheses_per_day,
            )
        return Admitted(voice=voice, request=request)

    async def synthesize(self, user: User, speech: Speech) -> Synthesized:
        """Render bounded text now and store it as the user's file."""
        admitted = await asyncio.to_thread(self._admit, user, speech, Door.SYNC)
        try:
            audio = await self.synthesis.render(admitted.request)
        except Unavailable:
            await asyncio.to_thread(self.refund, user.id)
            raise
        file, data = await asyncio.to_thread(
            self.store, user.id, audio, admitted.request, speech.output_format
        )
        return Synthesized(file=file, voice=admitted.voice, audio=audio, data=data)

    async def stream(self, user: User, speech: Speech) -> SpeechStream:
        """Admit a stream and wait for its first chunk, so that a busy pool or a bad request
        still answers with a status code before any byte of the response is sent."""
        admitted = await asyncio.to_thread(self._admit, user, speech, Door.STREAM)
        rest = self.synthesis.stream(admitted.request)
        try:
            first = await anext(rest)
        except StopAsyncIteration as exc:
            raise SynthesisFailed("The engine produced no audio") from exc
        except BaseException as exc:
            await rest.aclose()
            if isinstance(exc, Unavailable):
                await asyncio.to_thread(self.refund, user.id)
            raise
        return SpeechStream(admitted=admitted, first=first, rest=rest)

    def store(
        self,
        owner_id: str,
        audio: Audio,
        request: SynthesisRequest,
        fmt: str,
        *,
        file_id: str | None = None,
    ) -> tuple[File, bytes]:
        """Encode and store audio with its file row (returned with the encoded bytes); nothing
        is left behind if either fails."""
        file, data = write_audio(
            blobs=self.blobs,
            owner_id=owner_id,
            audio=audio,
            fmt=fmt,
            file_id=file_id,
            voice_id=request.voice_id,
            engine=request.engine,
        )
        try:
            with session_scope(self.sessions) as session:
                files_repository.add_file(session=session, file=file)
        except BaseException:
            discard(blobs=self.blobs, file=file)
            raise
        return file, data

    def refund(self, user_id: str) -> None:
        """The pool refused the work (503 + Retry-After): today's quota does not pay for it."""
        with session_scope(self.sessions) as session:
            limits.refund_daily(session=session, key=limits.synthesis_key(user_id))

    def _admit(self, user: User, speech: Speech, door: Door) -> Admitted:
        with session_scope(self.sessions) as session:
            return self.admit(session=session, user=user, speech=speech, door=door)
