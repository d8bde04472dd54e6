"""The XTTS engine's batching and streaming on a tiny random checkpoint (real coqui-tts code).

Greedy decoding makes generation deterministic, so a batched render can be compared exactly
with coqui's own one-text-at-a-time ``inference``; the checkpoint's GPT is drawn wide enough
that different texts and voices give different codes (tests/xtts_tiny.py).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.xtts_tiny import SAMPLES_PER_TOKEN, SPEAKERS, build_tiny_xtts
from voxify.engines.pool import EngineSet
from voxify.engines.render import SynthesisRequest
from voxify.engines.xtts import XttsEngine, XttsItem
from voxify.engines.xtts_batch import padded_batch, prefix_embedding

TOKENS = 30
ITEMS = [
    XttsItem("Hello there.", "en", speaker=SPEAKERS[0]),
    XttsItem("A much longer sentence, so that the others are padded next to it.", "en-GB",
             speaker=SPEAKERS[1]),
    XttsItem("Guten Tag, wie geht es?", "de", speaker=SPEAKERS[0], speed=1.25),
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_xtts(tmp_path_factory.mktemp("xtts-engine"))


@pytest.fixture(scope="module")
def greedy(model_dir: Path) -> XttsEngine:
    return XttsEngine(model_dir, max_new_tokens=TOKENS, greedy=True)


def alone(engine: XttsEngine, item: XttsItem) -> np.ndarray:
    return engine.synthesize(item.text, language=item.language, speaker=item.speaker,
                             speed=item.speed, seed=item.seed).samples


def test_a_batch_speaks_as_each_text_alone(greedy: XttsEngine) -> None:
    batched = greedy.synthesize_batch(ITEMS)
    singles = [alone(greedy, item) for item in ITEMS]
    for audio, single in zip(batched, singles, strict=True):
        assert audio.sample_rate == 24000
        assert len(audio.samples) == len(single)
        assert np.abs(audio.samples - single).max() < 1e-4
    # Not vacuous: each text and voice gives its own speech, and speed stretches it.
    assert not np.allclose(singles[0], singles[1])
    assert len(singles[2]) == pytest.approx(TOKENS * SAMPLES_PER_TOKEN / 1.25, rel=0.02)


def test_padding_is_invisible_to_every_row(greedy: XttsEngine) -> None:
    """The left padding is masked: the next-token logits of each row equal its own, alone.

    Unmasked, the padding shifts them (coqui-ai/TTS#3776's artefacts start there)."""
    model = greedy._model  # the check needs the GPT itself
    gpt = model.gpt
    with torch.inference_mode():
        prefixes = []
        for item in ITEMS:
            latent, _ = greedy._voice(None, item.speaker)
            prefixes.append(prefix_embedding(gpt, latent, greedy._tokens(item.text, "en")))
        assert len({len(p) for p in prefixes}) == len(prefixes)  # really padded

        def last_logits(batch: list[torch.Tensor], masked: bool = True) -> torch.Tensor:
            embeddings, inputs, mask = padded_batch(gpt, batch)
            gpt.gpt_inference.store_prefix_emb(embeddings)
            out = gpt.gpt_inference(inputs, attention_mask=mask if masked else None)
            return out.logits[:, -1]

        together = last_logits(prefixes)
        separate = torch.cat([last_logits([p]) for p in prefixes])
        unmasked = last_logits(prefixes, masked=False)
    assert (together - separate).abs().max() < 1e-5
    assert (unmasked - separate).abs().max() > 1e-4


def test_long_texts_split_within_the_language_limit(greedy: XttsEngine) -> None:
    assert greedy.char_limit("en-US") == 250 and greedy.char_limit("zh-CN") == 82
    text = "Это довольно длинное предложение, которое говорит о погоде и о море. " * 4
    assert 182 < len(text) <= 2 * 182  # XTTS's Russian limit: two pieces
    audio = greedy.synthesize_batch([XttsItem(text, "ru-RU", speaker=SPEAKERS[0]),
                                     ITEMS[0]])[0]
    assert len(audio.samples) == pytest.approx(2 * TOKENS * SAMPLES_PER_TOKEN, rel=0.01)


def test_seeded_items_repeat_in_and_out_of_a_batch(model_dir: Path) -> None:
    engine = XttsEngine(model_dir, max_new_tokens=TOKENS)  # sampling, as served
    seeded = XttsItem("Hello there.", "en", speaker=SPEAKERS[0], seed=11)
    batched = engine.synthesize_batch([seeded, ITEMS[1]])[0]
    assert np.array_equal(batched.samples, alone(engine, seeded))


def test_stream_yields_as_it_decodes_and_adds_up(greedy: XttsEngine) -> None:
    item = ITEMS[1]
    chunks = list(greedy.stream(item.text, language=item.language, speaker=item.speaker))
    assert len(chunks) >= 2 and all(c.sample_rate == 24000 for c in chunks)
    streamed = np.concatenate([c.samples for c in chunks])
    whole = alone(greedy, item)
    assert abs(len(streamed) - len(whole)) < 0.01 * 24000
    assert np.isfinite(streamed).all() and np.abs(streamed).max() <= 1.0


def test_a_render_goes_between_the_sentences_of_a_stream(model_dir: Path) -> None:
    """A stream holds the model for one sentence at a time, not for its whole text."""
    engines = EngineSet(None, XttsEngine(model_dir, max_new_tokens=TOKENS))
    long = "this sentence is long enough that two of them never share one chunk of text " * 2
    streamed = SynthesisRequest(text=f"{long}first. {long}second.", voice_id="xtts_a",
                                language="en", engine="xtts", speaker=SPEAKERS[0])
    other = SynthesisRequest(text="Hello.", voice_id="xtts_b", language="en", engine="xtts",
                             speaker=SPEAKERS[1])
    events: list[str] = []
    chunks = engines.stream(streamed)
    events.append(f"stream {next(chunks).progress}")  # the stream is inside its first sentence
    worker = threading.Thread(target=lambda: events.append(f"render {engines.render(other)}"))
    worker.start()
    time.sleep(0.3)  # the render now waits for the model
    events.extend(f"stream {chunk.progress}" for chunk in chunks)
    worker.join()
    rendered = next(i for i, event in enumerate(events) if event.startswith("render"))
    assert all(event == "stream 0.5" for event in events[:rendered]), events
    assert events[rendered + 1:] and all(e == "stream 1.0" for e in events[rendered + 1:]), events
