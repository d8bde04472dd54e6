"""@ray.remote background jobs: each receives ids, opens its own session, writes progress."""

from __future__ import annotations

import ray
from ray.serve.handle import DeploymentHandle

from deployments.embedder import RayVoiceprints
from deployments.synthesizer import RaySynthesis
from voxify.config import Settings
from voxify.db.session import make_engine, make_session_factory
from voxify.jobs.handlers import build_runner
from voxify.storage import open_blob_store


@ray.remote(max_retries=0)
def run_job(settings: Settings, job_id: str, synthesizer: DeploymentHandle,
            embedder: DeploymentHandle, xtts: DeploymentHandle | None = None) -> str:
    """Run one job of any type; crash recovery is the jobs table's business, not Ray's."""
    context = ray.get_runtime_context()
    runner_id = f"{context.get_node_id()}:{context.get_task_id()}"

    engine = make_engine(settings.database_url)
    try:
        synthesis = RaySynthesis(synthesizer, xtts)
        runner = build_runner(
            sessions=make_session_factory(engine),
            blobs=open_blob_store(settings.blob_url, s3_endpoint_url=settings.s3_endpoint_url,
                                  s3_region=settings.s3_region),
            synthesize=synthesis.synthesize,
            voiceprints=RayVoiceprints(embedder),
            conditioning_latents=synthesis.conditioning_latents,
            xtts_speakers=synthesis.xtts_speakers,
            heartbeat_s=settings.job_heartbeat_s,
        )
        return runner.run(job_id, runner_id)
    finally:
        engine.dispose()
