"""Ingress: the FastAPI app from voxify.api, served by Ray Serve replicas; the handle API
that other Serve applications call (synthesize, stream); and the gRPC methods that Serve's
gRPC proxy calls (Synthesize, SynthesizeStream, CreateJob, GetJob, WatchJob, ListVoices)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from ray import serve
from ray.serve.grpc_util import RayServegRPCContext
from ray.serve.handle import DeploymentHandle

from deployments import telemetry
from deployments.embedder import RayAsyncVoiceprints, RayVoiceprints
from deployments.launcher import RayJobLauncher
from deployments.serving import ServeStatus
from deployments.wiring import Pools, ask_catalogue
from voxify.api import handle
from voxify.api.app import create_app
from voxify.api.context import build_services
from voxify.api.handle import HandleResult
from voxify.api.metrics import refresh_job_gauges
from voxify.config import Settings
from voxify.grpc import servicer
from voxify.grpc import voxify_pb2 as pb
from voxify.jobs.recovery import sweep

log = logging.getLogger("ray.serve")


@serve.deployment
@serve.ingress()
class Ingress:
    """Auth, validation, routing and the envelope; synthesis and jobs go to other processes."""

    # Serve awaits an async constructor; mypy insists __init__ returns None.
    async def __init__(  # type: ignore[misc]
        self,
        settings: Settings,
        synthesizer: DeploymentHandle,
        embedder: DeploymentHandle,
        xtts: DeploymentHandle | None = None,
        kokoro: DeploymentHandle | None = None,
    ) -> None:
        telemetry.install(settings)
        pools = Pools(piper=synthesizer, embedder=embedder, xtts=xtts, kokoro=kokoro)
        catalogue = await ask_catalogue(pools)
        self._services = build_services(
            settings,
            synthesis=pools.synthesis(),
            voiceprints=RayVoiceprints(embedder),
            voiceprints_async=RayAsyncVoiceprints(embedder),
            catalogue=catalogue,
            # Jobs run as Ray tasks, which build their own runner (deployments/tasks.py).
            launcher=lambda _runner: RayJobLauncher(settings, pools, catalogue),
            serving=ServeStatus(serve.get_replica_context().app_name),
        )
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    def __serve_build_asgi_app__(self) -> FastAPI:
        # Serve's proxy gives each request an X-Request-ID (the caller's, else a fresh one)
        # and answers with it: the app uses that id and leaves the answering to the proxy.
        return create_app(self._services, echo_request_id=False)

    # The handle API for other Serve applications (voxify/api/handle.py has the rules):
    #   handle = serve.get_deployment_handle("Ingress", app_name="voxify")
    async def synthesize(self, api_key: str, text: str, **options: Any) -> HandleResult:
        """Encoded audio and its description, spoken as the key's owner."""
        return await handle.synthesize(self._services, api_key, text, **options)

    async def stream(self, api_key: str, text: str, **options: Any) -> AsyncIterator[bytes]:
        """Encoded pieces as they render: call with ``handle.options(stream=True)``."""
        async for piece in handle.stream(self._services, api_key, text, **options):
            yield piece

    # The gRPC door (voxify/grpc/voxify.proto, served by Serve's gRPC proxy: grpc_options in
    # serve_config.yaml). The proxy calls the method named like the RPC with the request
    # message; voxify/grpc/servicer.py has the rules.
    async def Synthesize(
        self, request: pb.SynthesizeRequest, grpc_context: RayServegRPCContext
    ) -> pb.SynthesizeResponse:
        """Encoded audio, spoken as the metadata's key owner."""
        return await servicer.synthesize(self._services, request, grpc_context)

    async def SynthesizeStream(
        self, request: pb.SynthesizeRequest, grpc_context: RayServegRPCContext
    ) -> AsyncIterator[pb.AudioChunk]:
        """Encoded pieces as they render."""
        async for chunk in servicer.synthesize_stream(self._services, request, grpc_context):
            yield chunk

    async def CreateJob(
        self, request: pb.SynthesizeRequest, grpc_context: RayServegRPCContext
    ) -> pb.Job:
        """A queued synthesis job."""
        return await servicer.create_job(self._services, request, grpc_context)

    async def GetJob(self, request: pb.GetJobRequest, grpc_context: RayServegRPCContext) -> pb.Job:
        """One of the caller's jobs."""
        return await servicer.get_job(self._services, request, grpc_context)

    async def WatchJob(
        self, request: pb.WatchJobRequest, grpc_context: RayServegRPCContext
    ) -> AsyncIterator[pb.JobProgress]:
        """A job's progress until it ends."""
        async for event in servicer.watch_job(self._services, request, grpc_context):
            yield event

    async def ListVoices(
        self, request: pb.ListVoicesRequest, grpc_context: RayServegRPCContext
    ) -> pb.ListVoicesResponse:
        """One page of the voice library."""
        return await servicer.list_voices(self._services, request, grpc_context)

    async def _sweep_forever(self) -> None:
        """Recover jobs whose runner died: at startup, then every half stale period."""
        interval = max(1.0, self._services.settings.job_stale_after_s / 2)
        startup = True
        while True:
            try:
                launched = await asyncio.to_thread(
                    sweep,
                    sessions=self._services.sessions,
                    settings=self._services.settings,
                    launcher=self._services.launcher,
                    startup=startup,
                )
                if launched:
                    log.info("job recovery launched %d job(s): %s", len(launched), launched)
                startup = False
                # Ray's gauge of jobs by state is set here (the /metrics of a replica sets
                # its own when scraped).
                await asyncio.to_thread(refresh_job_gauges, self._services.sessions)
            except Exception:  # keep sweeping: a database blip must not end recovery for good
                log.exception("job recovery sweep failed")
            await asyncio.sleep(interval)
