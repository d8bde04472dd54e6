"""The handler of each job type, and a runner wired with all of them."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from voxify.jobs.runner import Handler, JobRunner
from voxify.ports import Synthesis, Voiceprints
from voxify.status import JobType
from voxify.storage import BlobStore
from voxify.synthesis.job import run_synthesis
from voxify.voices.catalogue import VoiceCatalogue
from voxify.voices.processing import process_sample
from voxify.voices.training import train_clone

HANDLERS: dict[str, Handler] = {
    JobType.SYNTHESIS: run_synthesis,
    JobType.SAMPLE_PROCESSING: process_sample,
    JobType.CLONE_TRAINING: train_clone,
}


def build_runner(
    *,
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    synthesis: Synthesis,
    catalogue: VoiceCatalogue,
    voiceprints: Voiceprints | None,
    heartbeat_s: float = 2.0,
    clone_search_s: float = 45.0,
) -> JobRunner:
    """A JobRunner that runs every job type."""
    return JobRunner(
        sessions=sessions,
        blobs=blobs,
        synthesis=synthesis,
        catalogue=catalogue,
        handlers=HANDLERS,
        voiceprints=voiceprints,
        heartbeat_s=heartbeat_s,
        clone_search_s=clone_search_s,
    )
