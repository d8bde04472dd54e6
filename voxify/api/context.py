"""The collaborators the API is built with; one instance per ingress replica."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from voxify.config import Settings
from voxify.db.session import make_engine, make_session_factory
from voxify.ports import JobLauncher, Synthesis, Voiceprints
from voxify.storage import BlobStore, open_blob_store


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    synthesis: Synthesis
    launcher: JobLauncher
    voiceprints: Voiceprints


def build_services(
    settings: Settings, *, synthesis: Synthesis, launcher: JobLauncher, voiceprints: Voiceprints
) -> Services:
    """Open the database and blob store named by the settings."""
    engine = make_engine(settings.database_url)
    return Services(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        blobs=open_blob_store(
            settings.blob_url,
            s3_endpoint_url=settings.s3_endpoint_url,
            s3_region=settings.s3_region,
        ),
        synthesis=synthesis,
        launcher=launcher,
        voiceprints=voiceprints,
    )
