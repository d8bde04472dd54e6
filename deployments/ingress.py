"""Ingress: the FastAPI app from voxify.api, served by Ray Serve replicas, and the handle API
that other Serve applications call (synthesize, stream)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from ray import serve
from ray.serve.handle import DeploymentHandle

from deployments.embedder import RayAsyncVoiceprints, RayVoiceprints
from deployments.launcher import RayJobLauncher
from deployments.wiring import Pools, ask_catalogue
from voxify.api import handle
from voxify.api.app import create_app
from voxify.api.context import build_services
from voxify.api.handle import HandleResult
from voxify.config import Settings
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
        )
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    def __serve_build_asgi_app__(self) -> FastAPI:
        return create_app(self._services)

    # The handle API for other Serve applications (voxify/api/handle.py has the rules):
    #   handle = serve.get_deployment_handle("Ingress", app_name="voxify")
    async def synthesize(self, api_key: str, text: str, **options: Any) -> HandleResult:
        """Encoded audio and its description, spoken as the key's owner."""
        return await handle.synthesize(self._services, api_key, text, **options)

    async def stream(self, api_key: str, text: str, **options: Any) -> AsyncIterator[bytes]:
        """Encoded pieces as they render: call with ``handle.options(stream=True)``."""
        async for piece in handle.stream(self._services, api_key, text, **options):
            yield piece

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
            except Exception:  # keep sweeping: a database blip must not end recovery for good
                log.exception("job recovery sweep failed")
            await asyncio.sleep(interval)
