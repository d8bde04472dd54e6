"""Remove what a deleted sample or clone left outside the database: blobs and vectors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from voxify.db.session import session_scope
from voxify.ports import AsyncVoiceprints
from voxify.storage import BlobStore


async def delete_and_purge(
    *,
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    voiceprints: AsyncVoiceprints,
    delete: Callable[[Session], list[str]],
    vector_id: str,
) -> None:
    """Run ``delete`` (rows; it returns their blob keys) on a worker thread and commit, then
    delete those blobs and the vector (missing ones are fine)."""

    def delete_rows() -> list[str]:
        with session_scope(sessions) as session:
            return delete(session)

    for key in await asyncio.to_thread(delete_rows):
        await asyncio.to_thread(blobs.delete, key)
    await voiceprints.delete([vector_id])
