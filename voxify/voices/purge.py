"""Remove what a deleted sample or clone left outside the database: blobs and vectors."""

from __future__ import annotations

from collections.abc import Sequence

from voxify.ports import Voiceprints
from voxify.storage import BlobStore


def purge(
    *,
    blobs: BlobStore,
    voiceprints: Voiceprints,
    blob_keys: Sequence[str],
    vector_ids: Sequence[str],
) -> None:
    """Delete blobs and vectors after the rows' deletion has committed (missing ones are fine)."""
    for key in blob_keys:
        blobs.delete(key)
    voiceprints.delete(vector_ids)
