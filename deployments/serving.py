"""The engine pools as Ray Serve reports them: replicas by state, per deployment."""

from __future__ import annotations

import asyncio

from ray import serve

from voxify.admin.serving import POOL_ENGINES, PoolState


class ServeStatus:
    """:class:`voxify.admin.serving.ServingStatus` from ``serve.status()``."""

    def __init__(self, app_name: str) -> None:
        self.app_name = app_name

    async def pools(self) -> list[PoolState]:
        status = await asyncio.to_thread(serve.status)
        app = status.applications.get(self.app_name)
        if app is None:
            return []
        return [
            PoolState(
                name=name,
                engine=POOL_ENGINES[name],
                replicas={_name(state): int(n) for state, n in deployment.replica_states.items()},
                status=_name(deployment.status),
            )
            for name, deployment in sorted(app.deployments.items())
            if name in POOL_ENGINES
        ]


def _name(state: object) -> str:
    """An enum member's plain name (``HEALTHY``, ``RUNNING``)."""
    return str(getattr(state, "value", state))
