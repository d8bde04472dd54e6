"""The collaborators the API is built with, wired in one place; one instance per process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from voxify.admin.runtime import LiveLimits
from voxify.admin.serving import LocalServing, ServingStatus
from voxify.config import Settings
from voxify.db.session import make_engine, make_session_factory
from voxify.embeddings.threaded import ThreadedVoiceprints
from voxify.jobs.handlers import build_runner
from voxify.jobs.progress import ProgressHub
from voxify.jobs.runner import JobRunner
from voxify.ports import AsyncVoiceprints, JobLauncher, Synthesis, Voiceprints
from voxify.storage import BlobStore, blob_store_for
from voxify.synthesis import SynthesisService
from voxify.voices.catalogue import VoiceCatalogue
from voxify.voices.previews import Previews


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    synthesis: Synthesis
    catalogue: VoiceCatalogue
    speech: SynthesisService
    launcher: JobLauncher
    voiceprints: Voiceprints
    # The same Embedder for routes, awaited (job handlers use the blocking one).
    voiceprints_async: AsyncVoiceprints
    progress: ProgressHub
    previews: Previews
    limits: LiveLimits
    serving: ServingStatus

    def with_synthesis(self, synthesis: Synthesis) -> Services:
        """The same services over other engine pools (a fault-injecting wrapper, say)."""
        return replace(
            self,
            synthesis=synthesis,
            speech=SynthesisService(
                settings=self.settings,
                sessions=self.sessions,
                blobs=self.blobs,
                catalogue=self.catalogue,
                synthesis=synthesis,
                limits=self.limits,
            ),
            previews=Previews(
                sessions=self.sessions,
                blobs=self.blobs,
                catalogue=self.catalogue,
                synthesis=synthesis,
            ),
        )


def build_services(
    settings: Settings,
    *,
    synthesis: Synthesis,
    voiceprints: Voiceprints,
    voiceprints_async: AsyncVoiceprints | None = None,
    catalogue: VoiceCatalogue,
    launcher: Callable[[JobRunner], JobLauncher],
    heartbeat_s: float | None = None,
    serving: ServingStatus | None = None,
) -> Services:
    """Open the database and blob store the settings name and wire every service over them.

    ``voiceprints_async`` defaults to ``voiceprints`` on worker threads (in-process).
    ``launcher`` receives a job runner wired to the same collaborators; a launcher that runs
    jobs in another process (Ray) builds its runner there instead. ``serving`` reports the
    engine pools (default: one in-process replica of each engine the catalogue offers).
    """
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    blobs = blob_store_for(settings)
    runner = build_runner(
        sessions=sessions,
        blobs=blobs,
        synthesis=synthesis,
        catalogue=catalogue,
        voiceprints=voiceprints,
        heartbeat_s=settings.job_heartbeat_s if heartbeat_s is None else heartbeat_s,
        clone_search_s=settings.clone_search_s,
    )
    limits = LiveLimits(sessions, settings)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        blobs=blobs,
        synthesis=synthesis,
        catalogue=catalogue,
        launcher=launcher(runner),
        voiceprints=voiceprints,
        voiceprints_async=voiceprints_async or ThreadedVoiceprints(voiceprints),
        progress=ProgressHub(sessions),
        speech=SynthesisService(
            settings=settings,
            sessions=sessions,
            blobs=blobs,
            catalogue=catalogue,
            synthesis=synthesis,
            limits=limits,
        ),
        previews=Previews(sessions=sessions, blobs=blobs, catalogue=catalogue, synthesis=synthesis),
        limits=limits,
        serving=serving or LocalServing(catalogue),
    )
