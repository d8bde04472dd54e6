"""The Synthesizer deployment with XTTS configured: a tiny random XTTS v2 checkpoint, real Ray."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import FIXTURES
from tests.xtts_tiny import build_tiny_xtts
from voxify.config import Settings
from voxify.engines.base import Audio
from voxify.engines.render import SynthesisRequest
from voxify.storage import open_blob_store

TOKENS = 20
SAMPLES_PER_TOKEN = 1113.6


def test_synthesizer_conditions_and_speaks_with_xtts(
    serve_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from ray import serve

    from deployments.synthesizer import RaySynthesis, Synthesizer

    root: Path = tmp_path_factory.mktemp("xtts-pool")
    settings = Settings(environment="test", data_dir=root / "data",
                        jwt_secret="integration-secret-0123456789abcdef-xyz",
                        xtts_model_dir=build_tiny_xtts(root / "model"),
                        xtts_max_new_tokens=TOKENS)
    deployment = Synthesizer.options(name="XttsSynthesizer")  # type: ignore[attr-defined]
    handle = serve.run(deployment.bind(settings), name="xtts-pool", route_prefix=None)
    try:
        synthesis = RaySynthesis(handle)
        samples, rate = sf.read(FIXTURES / "speech" / "librivox_male_0870.wav", dtype="float32")
        latents = synthesis.conditioning_latents([Audio(samples, rate)])
        assert latents is not None and len(latents) > 10_000
        key = "clones/usr_test/vc_test/xtts_latents.pt"
        open_blob_store(settings.blob_url).put(key, latents, "application/octet-stream")
        audio = synthesis.synthesize(SynthesisRequest(
            text="Ciao a tutti.", voice_id="vc_test", language="it-IT", latents_key=key))
        assert audio.sample_rate == 24000
        assert len(audio.samples) == round(TOKENS * SAMPLES_PER_TOKEN)
        assert np.isfinite(audio.samples).all() and np.abs(audio.samples).max() <= 1.0
        plain = synthesis.synthesize(SynthesisRequest(text="Hello there."))
        assert plain.sample_rate == 22050  # the preset stays Piper on the same replica
    finally:
        serve.delete("xtts-pool")
