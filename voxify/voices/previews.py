"""Voice previews, rendered once and stored; and each user's favorite voices."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from voxify.audio.encode import encode
from voxify.db.models import User, VoiceFavorite, VoicePreview
from voxify.db.session import session_scope
from voxify.ports import Synthesis
from voxify.storage import BlobStore
from voxify.synthesis.options import Speech, plan_request
from voxify.voices.catalogue import VoiceCatalogue
from voxify.voices.library import Voice

PREVIEW_FORMAT = "wav"


@dataclass(frozen=True)
class Clip:
    """A stored preview: its WAV bytes, length and rate."""

    data: bytes
    duration: float
    sample_rate: int


def preview_url(voice_id: str) -> str:
    """Where the API serves a voice's preview audio (seed 000's path)."""
    return f"/api/v1/files/audio/previews/{quote(voice_id, safe='')}.{PREVIEW_FORMAT}"


def preview_key(voice_id: str) -> str:
    """Where a voice's preview lives in the blob store (ids may hold any blend spelling)."""
    digest = hashlib.sha256(voice_id.encode("utf-8")).hexdigest()[:32]
    return f"previews/{digest}.{PREVIEW_FORMAT}"


class Previews:
    """Short clips of each voice saying its preview text: the first request renders and
    stores one, every later request (any replica) reads it back."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        catalogue: VoiceCatalogue,
        synthesis: Synthesis,
    ) -> None:
        self._sessions = sessions
        self._blobs = blobs
        self._catalogue = catalogue
        self._synthesis = synthesis
        self._locks: dict[str, asyncio.Lock] = {}
        self._guard = threading.Lock()
        self.rendered = 0  # previews this process rendered (the rest were read back)

    async def get(self, user: User, voice_id: str) -> tuple[Voice, Clip]:
        """The voice (NotFound unless the user may speak with it) and its preview."""
        voice = await asyncio.to_thread(self._find, user, voice_id)
        async with self._lock(voice.voice_model_id):
            stored = await asyncio.to_thread(self._stored, voice.voice_model_id)
            if stored is not None:
                return voice, stored
            request = plan_request(
                voice,
                Speech(text=voice.preview_text, voice_id=voice.voice_model_id, language=None),
                text=voice.preview_text,
                seed=0,
            )
            audio = await self._synthesis.render(request)
            clip = Clip(encode(audio, PREVIEW_FORMAT), audio.duration, audio.sample_rate)
            await asyncio.to_thread(self._store, voice.voice_model_id, clip)
            self.rendered += 1
            return voice, clip

    def _find(self, user: User, voice_id: str) -> Voice:
        with session_scope(self._sessions) as session:
            return self._catalogue.find(session=session, owner_id=user.id, voice_id=voice_id)

    def _stored(self, voice_id: str) -> Clip | None:
        with session_scope(self._sessions) as session:
            row = session.get(VoicePreview, voice_id)
            if row is None:
                return None
            key, duration, rate = row.blob_key, row.duration, row.sample_rate
        if not self._blobs.exists(key):
            return None
        return Clip(self._blobs.get(key), duration, rate)

    def _store(self, voice_id: str, clip: Clip) -> None:
        key = preview_key(voice_id)
        self._blobs.put(key, clip.data, "audio/wav")
        with session_scope(self._sessions) as session:
            if session.get(VoicePreview, voice_id) is None:
                session.add(
                    VoicePreview(
                        voice_id=voice_id,
                        blob_key=key,
                        duration=clip.duration,
                        sample_rate=clip.sample_rate,
                    )
                )

    def _lock(self, voice_id: str) -> asyncio.Lock:
        with self._guard:
            return self._locks.setdefault(voice_id, asyncio.Lock())


def forget_preview(*, session: Session, voice_id: str) -> list[str]:
    """Drop a voice's stored preview row; returns its blob key to delete after commit."""
    row = session.get(VoicePreview, voice_id)
    if row is None:
        return []
    session.delete(row)
    return [row.blob_key]


def favorites_count(*, session: Session, voice_id: str) -> int:
    """How many users marked the voice."""
    query = (
        select(func.count()).select_from(VoiceFavorite).where(VoiceFavorite.voice_id == voice_id)
    )
    return int(session.scalar(query) or 0)


def favorite_ids(*, session: Session, user_id: str) -> set[str]:
    """The voice ids the user marked."""
    return set(
        session.scalars(select(VoiceFavorite.voice_id).where(VoiceFavorite.user_id == user_id))
    )


def set_favorite(*, session: Session, user_id: str, voice_id: str, favorite: bool) -> None:
    """Mark or unmark a voice for the user (idempotent both ways)."""
    row = session.get(VoiceFavorite, (user_id, voice_id))
    if favorite and row is None:
        session.add(VoiceFavorite(user_id=user_id, voice_id=voice_id))
    elif not favorite and row is not None:
        session.delete(row)
    session.flush()
