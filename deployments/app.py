"""build_app: the serving graph Ingress -> Synthesizer + Embedder, migrations applied first."""

from __future__ import annotations

from typing import Any

from ray.serve import Application

from deployments.embedder import Embedder
from deployments.ingress import Ingress
from deployments.synthesizer import Synthesizer
from voxify.config import Settings
from voxify.db.migrate import upgrade


def build_app(args: dict[str, Any]) -> Application:
    """Build the Voxify application from serve_config.yaml ``args`` (over VOXIFY_* env)."""
    settings = Settings(**(args or {}))
    upgrade(settings.database_url)
    # @serve.deployment turns the classes into Deployments; their type hints keep the class type.
    synthesizer = Synthesizer.bind(settings)  # type: ignore[attr-defined]
    embedder = Embedder.bind(settings)  # type: ignore[attr-defined]
    app: Application = Ingress.bind(settings, synthesizer, embedder)  # type: ignore[attr-defined]
    return app
