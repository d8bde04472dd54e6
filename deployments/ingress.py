"""Ingress: the FastAPI app from voxify.api, served by Ray Serve replicas."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI
from ray import serve
from ray.serve.handle import DeploymentHandle

from deployments.embedder import RayAsyncVoiceprints, RayVoiceprints
from deployments.launcher import RayJobLauncher
from deployments.synthesizer import RaySynthesis
from deployments.wiring import Pools, ask_catalogue
from voxify.api.app import create_app
from voxify.api.context import build_services
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
    ) -> None:
        pools = Pools(piper=synthesizer, embedder=embedder, xtts=xtts)
        catalogue = await ask_catalogue(pools)
        self._services = build_services(
            settings,
            synthesis=RaySynthesis(synthesizer, xtts),
            voiceprints=RayVoiceprints(embedder),
            voiceprints_async=RayAsyncVoiceprints(embedder),
            catalogue=catalogue,
            # Jobs run as Ray tasks, which build their own runner (deployments/tasks.py).
            launcher=lambda _runner: RayJobLauncher(settings, pools, catalogue),
        )
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    def __serve_build_asgi_app__(self) -> FastAPI:
        return create_app(self._services)

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
