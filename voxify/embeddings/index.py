"""The vector index of speaker embeddings: one Chroma collection, embedded or on a server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.collection_configuration import CreateCollectionConfiguration
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings

COLLECTION = "voxify_voices"
SPACE: Final = "cosine"

MetadataValue = str | int | float | bool


@dataclass(frozen=True)
class Neighbour:
    """A stored vector near a query: its id, cosine similarity and metadata."""

    id: str
    similarity: float
    metadata: dict[str, Any]


class VoiceIndex:
    """Speaker embeddings by id, with metadata to filter on, in one cosine-space collection."""

    def __init__(self, client: ClientAPI) -> None:
        self._client = client
        # No embedding function: we always pass vectors, and Chroma's default one would fetch a
        # text model from the internet the first time it was asked to embed anything.
        configuration: CreateCollectionConfiguration = {"hnsw": {"space": SPACE}}
        self._collection: Collection = client.get_or_create_collection(
            COLLECTION,
            embedding_function=None,
            configuration=configuration,
        )
        # get_or_create ignores the configuration when the collection already exists.
        space = _space(self._collection)
        if space not in (SPACE, None):
            raise ValueError(
                f"Chroma collection {COLLECTION!r} uses the {space!r} space; Voxify needs "
                f"{SPACE!r}. Point Voxify at another Chroma database or delete that collection."
            )

    def upsert(self, id: str, vector: np.ndarray, metadata: Mapping[str, MetadataValue]) -> None:
        """Store ``vector`` under ``id``, replacing any earlier vector and all of its metadata."""
        # Chroma merges metadata on upsert; a key set to None is removed, so stale keys are
        # cleared in the same write rather than by a delete-then-add that could lose the vector.
        stale = self._collection.get(ids=[id], include=["metadatas"])["metadatas"] or []
        update: dict[str, MetadataValue | None] = {
            key: None for old in stale if old for key in old if key not in metadata
        }
        update.update(metadata)
        self._collection.upsert(
            ids=[id],
            embeddings=[_as_vector(vector)],
            metadatas=[update] if update else None,  # Chroma rejects an empty metadata dict
        )

    def get(self, id: str) -> np.ndarray | None:
        """The vector stored under ``id``, or None."""
        found = self._collection.get(ids=[id], include=["embeddings"])
        embeddings = found["embeddings"]
        if not found["ids"] or embeddings is None:
            return None
        return np.asarray(embeddings[0], dtype=np.float32)

    def delete(self, ids: Sequence[str]) -> None:
        """Remove vectors; ids that are not stored are ignored."""
        if ids:
            self._collection.delete(ids=list(ids))

    def nearest(
        self, vector: np.ndarray, *, n: int, where: dict[str, Any] | None = None
    ) -> list[Neighbour]:
        """Up to ``n`` stored vectors matching ``where``, most similar first."""
        if n < 1:
            raise ValueError(f"n must be at least 1, not {n}")
        result = self._collection.query(
            query_embeddings=[_as_vector(vector)],
            n_results=n,
            where=_where(where),
            include=["distances", "metadatas"],
        )
        ids = result["ids"][0]
        distances = (result["distances"] or [[]])[0]
        # A record stored without metadata comes back as None.
        metadatas: list[Any] = list((result["metadatas"] or [[]])[0]) or [None] * len(ids)
        # Chroma's cosine space reports distance = 1 - cosine similarity.
        return [
            Neighbour(id=found, similarity=1.0 - float(distance), metadata=dict(metadata or {}))
            for found, distance, metadata in zip(ids, distances, metadatas, strict=True)
        ]

    def count(self) -> int:
        """How many vectors are stored."""
        return self._collection.count()

    def check(self) -> str:
        """'ok' while the index answers, else the reason it does not."""
        try:
            self._client.heartbeat()
            self._collection.count()
        except Exception as exc:  # any failure is a reason to report, not to raise
            return f"vector index unavailable: {type(exc).__name__}: {exc}"
        return "ok"


def open_index(url: str, *, data_dir: Path) -> VoiceIndex:
    """The index at ``url``: "" is Chroma embedded under data_dir, http(s)://host:port a server."""
    # Telemetry off: a self-hosted service must not phone home, and clusters may have no egress.
    settings = Settings(anonymized_telemetry=False)
    if not url:
        path = Path(data_dir) / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return VoiceIndex(chromadb.PersistentClient(path=str(path), settings=settings))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"Unsupported vector index URL {url!r}: use an empty value for embedded Chroma "
            "under the data directory, or http://host:port (https://...) for a Chroma server"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(
            f"Unsupported vector index URL {url!r}: a Chroma server URL is only "
            "http(s)://host:port, without a path, query or credentials"
        )
    ssl = parts.scheme == "https"
    port = parts.port or (443 if ssl else 80)
    try:
        client = chromadb.HttpClient(host=parts.hostname, port=port, ssl=ssl, settings=settings)
    except ValueError as exc:  # chromadb's way of saying the server did not answer
        raise ConnectionError(f"Cannot reach the Chroma server at {url}: {exc}") from exc
    return VoiceIndex(client)


def _as_vector(vector: np.ndarray) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    if array.ndim != 1:
        raise ValueError(f"expected one vector, got an array of shape {array.shape}")
    return array


def _where(where: dict[str, Any] | None) -> dict[str, Any] | None:
    """Chroma's filter: several fields at the top level mean all of them ($and)."""
    if not where:
        return None
    fields = [key for key in where if not key.startswith("$")]
    if len(where) > 1 and len(fields) == len(where):
        return {"$and": [{key: value} for key, value in where.items()]}
    return where


def _space(collection: Collection) -> str | None:
    """The distance space an existing collection was created with."""
    configuration = collection.configuration_json or {}
    for index in ("hnsw", "spann"):
        space = (configuration.get(index) or {}).get("space")
        if space:
            return str(space)
    return None
