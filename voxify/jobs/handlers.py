"""The handler of each job type, and a runner wired with all of them."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from voxify.jobs.runner import Handler, JobRunner, Latents, Speakers, Synthesize
from voxify.jobs.synthesis import run_synthesis
from voxify.ports import Voiceprints
from voxify.storage import BlobStore
from voxify.voices.processing import process_sample
from voxify.voices.training import train_clone

HANDLERS: dict[str, Handler] = {
    "synthesis": run_synthesis,
    "sample_processing": process_sample,
    "clone_training": train_clone,
}


def build_runner(
    *, sessions: sessionmaker[Session], blobs: BlobStore, synthesize: Synthesize,
    voiceprints: Voiceprints | None, conditioning_latents: Latents | None = None,
    xtts_speakers: Speakers | None = None, heartbeat_s: float = 2.0,
) -> JobRunner:
    """A JobRunner that runs every job type."""
    return JobRunner(sessions=sessions, blobs=blobs, synthesize=synthesize, handlers=HANDLERS,
                     voiceprints=voiceprints, conditioning_latents=conditioning_latents,
                     xtts_speakers=xtts_speakers,
                     heartbeat_s=heartbeat_s)
