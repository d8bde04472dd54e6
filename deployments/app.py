"""build_app: the serving graph Ingress -> Synthesizer pools + Embedder, migrations first."""

from __future__ import annotations

from typing import Any

from ray.serve import Application

from deployments.embedder import Embedder
from deployments.ingress import Ingress
from deployments.synthesizer import Synthesizer
from voxify.config import KOKORO_POOL, XTTS_POOL, Settings
from voxify.db.migrate import upgrade
from voxify.engines.kokoro_assets import KokoroFiles


def build_app(args: dict[str, Any]) -> Application:
    """Build the Voxify application from serve_config.yaml ``args`` (over VOXIFY_* env)."""
    settings = Settings(**(args or {}))
    upgrade(settings.database_url)
    # @serve.deployment turns the classes into Deployments; their type hints keep the class type.
    synthesizer = Synthesizer.bind(settings, "piper")  # type: ignore[attr-defined]
    xtts = None
    if settings.xtts_model_dir is not None:  # the GPU pool exists only where XTTS is configured
        xtts = Synthesizer.options(name=XTTS_POOL).bind(  # type: ignore[attr-defined]
            settings, "xtts"
        )
    kokoro = None
    if KokoroFiles(settings.kokoro_dir).ready():  # `voxify setup` put Kokoro's files in place
        kokoro = Synthesizer.options(name=KOKORO_POOL).bind(  # type: ignore[attr-defined]
            settings, "kokoro"
        )
    embedder = Embedder.bind(settings)  # type: ignore[attr-defined]
    app: Application = Ingress.bind(  # type: ignore[attr-defined]
        settings, synthesizer, embedder, xtts, kokoro
    )
    return app
