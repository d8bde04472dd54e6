"""Voice previews, rendered once and stored; and each user's favorite voices."""

from __future__ import annotations

import asyncio
import hashlib
import threading

from sqlalchemy import select
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

    async def get(self, user: User, voice_id: str) -> tuple[Voice, bytes]:
        """The voice (NotFound unless the user may speak with it) and its preview's bytes."""
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
            data = encode(audio, PREVIEW_FORMAT)
            await asyncio.to_thread(
                self._store, voice.voice_model_id, data, audio.duration, audio.sample_rate
            )
            self.rendered += 1
            return voice, data

    def _find(self, user: User, voice_id: str) -> Voice:
        with session_scope(self._sessions) as session:
            return self._catalogue.find(session=session, owner_id=user.id, voice_id=voice_id)

    def _stored(self, voice_id: str) -> bytes | None:
        with session_scope(self._sessions) as session:
            row = session.get(VoicePreview, voice_id)
            key = None if row is None else row.blob_key
        if key is None or not self._blobs.exists(key):
            return None
        return self._blobs.get(key)

    def _store(self, voice_id: str, data: bytes, duration: float, rate: int) -> None:
        key = preview_key(voice_id)
        self._blobs.put(key, data)
        with session_scope(self._sessions) as session:
            row = session.get(VoicePreview, voice_id)
            if row is None:
                session.add(
                    VoicePreview(
                        voice_id=voice_id, blob_key=key, duration=duration, sample_rate=rate
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
