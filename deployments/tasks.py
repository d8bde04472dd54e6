"""@ray.remote background jobs: each receives ids, opens its own session, writes progress."""

from __future__ import annotations

import ray

from deployments import telemetry
from deployments.embedder import RayVoiceprints
from deployments.wiring import Pools
from voxify.config import Settings
from voxify.db.session import make_engine, make_session_factory
from voxify.jobs.handlers import build_runner
from voxify.storage import blob_store_for
from voxify.voices.catalogue import VoiceCatalogue


# Ray retries a task whose worker or node died (never one that raised): a launch lost before
# it claimed its row (queued on a node that went away) is delivered again, instead of leaving
# the row pending with nothing to run it. A retry of a task that had claimed its row finds it
# no longer pending and returns; resuming that job is the jobs table's recovery sweep.
@ray.remote(max_retries=3)
def run_job(settings: Settings, job_id: str, pools: Pools, catalogue: VoiceCatalogue) -> str:
    """Run one job of any type; crash recovery is the jobs table's business, not Ray's."""
    telemetry.install(settings)
    context = ray.get_runtime_context()
    runner_id = f"{context.get_node_id()}:{context.get_task_id()}"

    engine = make_engine(settings.database_url)
    try:
        runner = build_runner(
            sessions=make_session_factory(engine),
            blobs=blob_store_for(settings),
            synthesis=pools.synthesis(),
            catalogue=catalogue,
            voiceprints=RayVoiceprints(pools.embedder),
            heartbeat_s=settings.job_heartbeat_s,
            clone_search_s=settings.clone_search_s,
        )
        return runner.run(job_id, runner_id)
    finally:
        engine.dispose()
