"""The XTTS engine's batching and streaming on a tiny random checkpoint (real coqui-tts code).

Greedy decoding makes generation deterministic, so a batched render can be compared exactly
with coqui's own one-text-at-a-time ``inference``; the checkpoint's GPT is drawn wide enough
that different texts and voices give different codes (tests/xtts_tiny.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.xtts_tiny import SAMPLES_PER_TOKEN, SPEAKERS, build_tiny_xtts
from voxify.engines.pool import EngineSet
from voxify.engines.xtts import XttsEngine, XttsItem
from voxify.engines.xtts_batch import padded_batch, prefix_embedding
from voxify.speech import Audio, SynthesisRequest

TOKENS = 30
ITEMS = [
    XttsItem("Hello there.", "en", speaker=SPEAKERS[0]),
    XttsItem(
        "A much longer sentence, so that the others are padded next to it.",
        "en-GB",
        speaker=SPEAKERS[1],
    ),
    XttsItem("Guten Tag, wie geht es?", "de", speaker=SPEAKERS[0], speed=1.25),
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_xtts(tmp_path_factory.mktemp("xtts-engine"))


@pytest.fixture(scope="module")
def greedy(model_dir: Path) -> XttsEngine:
    return XttsEngine(model_dir, max_new_tokens=TOKENS, greedy=True)


def alone(engine: XttsEngine, item: XttsItem) -> np.ndarray:
    return engine.synthesize(
        item.text, language=item.language, speaker=item.speaker, speed=item.speed, seed=item.seed
    ).samples


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
    audio = greedy.synthesize_batch([XttsItem(text, "ru-RU", speaker=SPEAKERS[0]), ITEMS[0]])[0]
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


def test_the_opening_of_a_stream_is_a_short_chunk(greedy: XttsEngine) -> None:
    item = ITEMS[0]
    chunks = [
        c.samples
        for c in greedy.stream(
            item.text, language=item.language, speaker=item.speaker, opening=True
        )
    ]
    # 10 tokens, less the 1024 samples held back to cross-fade into the next chunk; then 20.
    assert len(chunks[0]) == pytest.approx(10 * SAMPLES_PER_TOKEN - 1024, rel=0.05)
    assert len(chunks[1]) == pytest.approx(20 * SAMPLES_PER_TOKEN, rel=0.05)
    assert sum(len(c) for c in chunks) == pytest.approx(TOKENS * SAMPLES_PER_TOKEN, rel=0.02)


def test_stream_decodes_as_coquis_inference_stream(model_dir: Path) -> None:
    """The windowed decoder gives coqui's chunks, sample for sample (same seed, same codes)."""
    engine = XttsEngine(model_dir, max_new_tokens=2 * TOKENS)  # streams always sample
    item = ITEMS[2]  # speed 1.25: the latents are stretched before decoding
    latent, embedding = engine._voice(None, item.speaker)
    torch.manual_seed(3)
    coqui = [
        wav.numpy()
        for wav in engine._model.inference_stream(
            item.text,
            "de",
            latent,
            embedding,
            stream_chunk_size=20,
            speed=item.speed,
            max_new_tokens=2 * TOKENS,
            min_new_tokens=2 * TOKENS,
        )
    ]
    ours = [
        c.samples
        for c in engine.stream(
            item.text, language=item.language, speaker=item.speaker, speed=item.speed, seed=3
        )
    ]
    assert [len(c) for c in ours] == [len(c) for c in coqui] and len(ours) == 4  # + held tail
    for mine, theirs in zip(ours, coqui, strict=True):
        assert np.abs(mine - theirs).max() < 1e-6


def test_streams_interleave_step_by_step(model_dir: Path) -> None:
    """Another stream between two steps leaves this one's speech as it would be alone: each
    step puts back its own GPT prefix (the other's is a different length)."""
    engine = XttsEngine(model_dir, max_new_tokens=TOKENS)
    item, other = ITEMS[0], ITEMS[1]

    def steps(seed: int) -> Iterator[Audio]:
        return engine.stream(item.text, language=item.language, speaker=item.speaker, seed=seed)

    alone_chunks = [c.samples for c in steps(5)]
    interleaved = steps(5)
    first = next(interleaved)
    state = torch.get_rng_state()
    list(engine.stream(other.text, language=other.language, speaker=other.speaker, seed=9))
    torch.set_rng_state(state)  # the same draws as alone: only the model state differs
    chunks = [first.samples, *(c.samples for c in interleaved)]
    assert len(chunks) == len(alone_chunks) == 2
    for mine, theirs in zip(chunks, alone_chunks, strict=True):
        assert np.abs(mine - theirs).max() < 1e-6


def test_a_render_goes_between_the_chunks_of_a_stream(model_dir: Path) -> None:
    """A stream holds the model for one chunk at a time, not for its sentence or text."""
    engines = EngineSet(None, XttsEngine(model_dir, max_new_tokens=TOKENS))
    streamed = SynthesisRequest(
        text="One sentence, streamed in two chunks.",
        voice_id="xtts_a",
        language="en",
        engine="xtts",
        speaker=SPEAKERS[0],
    )
    other = SynthesisRequest(
        text="Hello.", voice_id="xtts_b", language="en", engine="xtts", speaker=SPEAKERS[1]
    )
    events: list[str] = []
    chunks = engines.stream(streamed)
    next(chunks)
    events.append("stream chunk")  # the stream is inside its only sentence
    worker = threading.Thread(target=lambda: events.append(f"render {engines.render(other)}"))
    worker.start()
    # The render has now asked for the model: it holds it, waits for it, or is done (polled: a
    # fixed sleep could end before the worker thread even ran).
    lock, deadline = engines._xtts_lock, time.monotonic() + 30
    while not (lock._held or lock._waiting or len(events) > 1):
        assert time.monotonic() < deadline, "the render never asked for the model"
        time.sleep(0.01)
    events.extend("stream chunk" for _ in chunks)
    worker.join()
    assert events[1].startswith("render") and events[2:] == ["stream chunk"] * (len(events) - 2)
    assert len(events) >= 3, events
