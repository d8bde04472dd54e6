"""SynthesisService: every door's synthesis goes through here, so every rule holds at every door.

Validate options (format x sample rate x engine, text length), clean the text, resolve the
voice, charge the daily quota, render on the engine pool, encode, store; give the quota back
when the pool sheds the request. Jobs are admitted here too and rendered by their handler
(voxify/synthesis/job.py) through the same planning.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from voxify import limits
from voxify.admin.runtime import LiveLimits
from voxify.audio.stream_encode import stream_encoder
from voxify.config import Settings
from voxify.db.models import File, User
from voxify.db.session import session_scope
from voxify.errors import SynthesisFailed, Unavailable
from voxify.files import repository as files_repository
from voxify.files.service import discard, write_audio
from voxify.observability import metrics
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
    door: str = Door.STREAM
    in_flight: Counter[str] | None = None  # the service's count; this stream leaves it at the end

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
        seconds, outcome = 0.0, "error"
        try:
            yield self.first
            seconds += self.first.audio.duration
            async for chunk in self.rest:
                yield chunk
                seconds += chunk.audio.duration
            outcome = "ok"
        finally:
            await self.rest.aclose()
            engine = self.admitted.request.engine
            if self.in_flight is not None:
                self.in_flight[engine] -= 1
            metrics.SYNTHESES.inc(engine=engine, door=self.door, outcome=outcome)
            metrics.AUDIO_SECONDS.inc(seconds, engine=engine, door=self.door)


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
        limits: LiveLimits | None = None,
    ) -> None:
        self.settings = settings
        self.limits = limits or LiveLimits(sessions, settings)
        # Renders and streams this process has handed to each engine's pool and not seen end.
        self.in_flight: Counter[str] = Counter()
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
        in_force = self.limits.for_user(user)
        text = clean_text(speech.text, max_chars=door.max_chars(in_force))
        voice = self.catalogue.resolve(
            session=session, user=user, voice_id=speech.voice_id, language=speech.language
        )
        request = plan_request(voice, speech, text=text)
        if charge:
            limits.hit_daily(
                session=session,
                key=limits.synthesis_key(user.id),
                limit=in_force.syntheses_per_day,
            )
        return Admitted(voice=voice, request=request)

    async def synthesize(
        self, user: User, speech: Speech, *, via: str | None = None
    ) -> Synthesized:
        """Render bounded text now and store it as the user's file. ``via`` names the door
        in metrics when it is not the REST one (openai, grpc, handle)."""
        admitted = await asyncio.to_thread(self._admit, user, speech, Door.SYNC)
        door, engine = via or Door.SYNC, admitted.request.engine
        started = time.perf_counter()
        self.in_flight[engine] += 1
        try:
            audio = await self.synthesis.render(admitted.request)
        except Unavailable:
            metrics.POOL_SHEDS.inc(pool=engine)
            await asyncio.to_thread(self.refund, user.id)
            raise
        except Exception:
            metrics.SYNTHESES.inc(engine=engine, door=door, outcome="error")
            raise
        finally:
            self.in_flight[engine] -= 1
        record_render(engine, door, audio, time.perf_counter() - started)
        file, data = await asyncio.to_thread(
            self.store, user.id, audio, admitted.request, speech.output_format
        )
        return Synthesized(file=file, voice=admitted.voice, audio=audio, data=data)

    async def stream(self, user: User, speech: Speech, *, via: str | None = None) -> SpeechStream:
        """Admit a stream and wait for its first chunk, so that a busy pool or a bad request
        still answers with a status code before any byte of the response is sent."""
        admitted = await asyncio.to_thread(self._admit, user, speech, Door.STREAM)
        door, engine = via or Door.STREAM, admitted.request.engine
        started = time.perf_counter()
        rest = self.synthesis.stream(admitted.request)
        self.in_flight[engine] += 1
        try:
            first = await anext(rest)
        except StopAsyncIteration as exc:
            self.in_flight[engine] -= 1
            metrics.SYNTHESES.inc(engine=engine, door=door, outcome="error")
            raise SynthesisFailed("The engine produced no audio") from exc
        except BaseException as exc:
            self.in_flight[engine] -= 1
            await rest.aclose()
            if isinstance(exc, Unavailable):
                metrics.POOL_SHEDS.inc(pool=engine)
                await asyncio.to_thread(self.refund, user.id)
            else:
                metrics.SYNTHESES.inc(engine=engine, door=door, outcome="error")
            raise
        metrics.FIRST_AUDIO.observe(time.perf_counter() - started, engine=engine)
        return SpeechStream(
            admitted=admitted, first=first, rest=rest, door=door, in_flight=self.in_flight
        )

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


def record_render(engine: str, door: str, audio: Audio, elapsed_s: float) -> None:
    """Metrics of one finished render: a synthesis, its audio seconds, its real-time factor."""
    metrics.SYNTHESES.inc(engine=engine, door=door, outcome="ok")
    metrics.AUDIO_SECONDS.inc(audio.duration, engine=engine, door=door)
    if audio.duration > 0:
        metrics.RTF.observe(elapsed_s / audio.duration, engine=engine, door=door)
