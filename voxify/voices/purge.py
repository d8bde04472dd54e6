"""Remove what a deleted sample or clone left outside the database: blobs and vectors."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from voxify.ports import AsyncVoiceprints
from voxify.storage import BlobStore


async def purge(
    *,
    blobs: BlobStore,
    voiceprints: AsyncVoiceprints,
    blob_keys: Sequence[str],
    vector_ids: Sequence[str],
) -> None:
    """Delete blobs and vectors after the rows' deletion has committed (missing ones are fine)."""
    for key in blob_keys:
        await asyncio.to_thread(blobs.delete, key)
    await voiceprints.delete(vector_ids)
