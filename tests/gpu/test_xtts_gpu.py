"""XTTS on a CUDA GPU: the pool's engine code on the device (skipped where there is none).

The same checks as the CPU tests, where GPU kernels could break them: a batch decoded greedily
still speaks as each text alone (coqui-ai/TTS#3776's padding artefacts would show here), and the
full-size architecture renders batches and streams on the device.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.xtts_tiny import SAMPLES_PER_TOKEN, SPEAKERS, build_tiny_xtts, build_xtts
from voxify.engines.pool import EngineSet
from voxify.engines.xtts import XttsEngine, XttsItem
from voxify.speech import SynthesisRequest

pytestmark = pytest.mark.gpu


def test_a_batch_speaks_as_each_text_alone_on_the_gpu(tmp_path: Path) -> None:
    engine = XttsEngine(build_tiny_xtts(tmp_path), max_new_tokens=30, greedy=True)
    assert next(engine._model.parameters()).is_cuda
    items = [
        XttsItem("Hi.", "en", speaker=SPEAKERS[0]),
        XttsItem(
            "A much longer sentence, padded beside the short ones.", "en", speaker=SPEAKERS[1]
        ),
        XttsItem("Guten Tag, wie geht es?", "de", speaker=SPEAKERS[0]),
    ]
    batched = engine.synthesize_batch(items)
    for item, audio in zip(items, batched, strict=True):
        single = engine.synthesize(item.text, language=item.language, speaker=item.speaker)
        assert len(audio.samples) == len(single.samples)
        # Batched GPU kernels sum in another order (and cuDNN convolutions may use TF32), so
        # allow rounding; padding artefacts are of the order of the signal itself.
        peak = float(np.abs(single.samples).max())
        assert np.abs(audio.samples - single.samples).max() < 0.01 * peak


def test_the_full_size_model_batches_and_streams_on_the_gpu(tmp_path: Path) -> None:
    tokens = 20
    engines = EngineSet(None, XttsEngine(build_xtts(tmp_path, size="full"), max_new_tokens=tokens))
    requests = [
        SynthesisRequest(
            text=text,
            voice_id="xtts_gpu",
            language="en",
            engine="xtts",
            speaker=SPEAKERS[i % len(SPEAKERS)],
        )
        for i, text in enumerate(
            [
                "Good morning.",
                "The train leaves at noon today.",
                "Please close the door.",
                "It is raining again.",
            ]
        )
    ]
    for audio in engines.render_many(requests):
        assert len(audio.samples) == pytest.approx(tokens * SAMPLES_PER_TOKEN, rel=0.02)
        assert np.isfinite(audio.samples).all() and np.abs(audio.samples).max() > 0
    chunks = list(engines.stream(requests[1]))
    assert len(chunks) >= 2
    assert sum(len(c.audio.samples) for c in chunks) == pytest.approx(
        tokens * SAMPLES_PER_TOKEN, rel=0.02
    )
    torch.cuda.synchronize()


def test_a_stream_decodes_as_coquis_inference_stream_on_the_gpu(tmp_path: Path) -> None:
    """The windowed decoder on the device: the same chunks as coqui's own streaming, within
    cuDNN's rounding (its convolution algorithms depend on the input length)."""
    engine = XttsEngine(build_tiny_xtts(tmp_path), max_new_tokens=60)
    latent, embedding = engine._voice(None, SPEAKERS[0])
    text = "A sentence long enough for three chunks."
    torch.manual_seed(3)
    coqui = [
        wav.float().cpu().numpy()
        for wav in engine._model.inference_stream(
            text,
            "en",
            latent,
            embedding,
            stream_chunk_size=20,
            max_new_tokens=60,
            min_new_tokens=60,
        )
    ]
    ours = [c.samples for c in engine.stream(text, language="en", speaker=SPEAKERS[0], seed=3)]
    assert [len(c) for c in ours] == [len(c) for c in coqui]
    peak = max(float(np.abs(c).max()) for c in coqui)
    for mine, theirs in zip(ours, coqui, strict=True):
        assert np.abs(mine - theirs).max() < 0.01 * peak
