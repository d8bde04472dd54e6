"""Word timestamps: every spoken word, in order, covering the audio, silences between words."""

from __future__ import annotations

import base64
import io
import itertools
import json
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from tests.unit.conftest import add_ready_clone, register_and_login
from voxify.engines.alignment import TimedPhoneme, word_timings

TEXT = "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background."
WORDS = [w.strip(".") for w in TEXT.split()]
FRAME_S = 0.01


def _download(client: TestClient, headers: dict[str, str], path: str) -> tuple[np.ndarray, int]:
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    samples, rate = sf.read(io.BytesIO(response.content), dtype="float64")
    return samples, rate


def _check_against_audio(words: list[dict[str, Any]], samples: np.ndarray, rate: int) -> None:
    duration = len(samples) / rate
    starts = [w["start"] for w in words]
    ends = [w["end"] for w in words]
    # In order, each word a positive span, none overlapping the next.
    assert all(s < e for s, e in zip(starts, ends, strict=True))
    assert all(e <= s + 1e-3 for e, s in zip(ends, starts[1:], strict=False))
    # Together they cover the speech: little before the first word or after the last.
    assert starts[0] < 0.3 and ends[-1] > duration - 0.3 and ends[-1] <= duration + 1e-3
    # The energy is in the words; the sentence pause between "planks" and "Glue" is silent.
    energy = samples**2
    inside = np.zeros(len(samples), dtype=bool)
    for s, e in zip(starts, ends, strict=True):
        inside[int(s * rate) : int(e * rate)] = True
    # 0.955-0.980 over 20 renders each of plain, clone and fast+pitched speech (Piper samples
    # noise; loadtests/timestamp_spread.py): the rest is breath and decay at word edges.
    assert energy[inside].sum() / energy.sum() > 0.93
    gap = words[7]["end"], words[8]["start"]
    assert gap[1] - gap[0] > 0.15
    middle = samples[int((gap[0] + 0.03) * rate) : int((gap[1] - 0.03) * rate)]
    speech_rms = np.sqrt(energy[inside].mean())
    assert np.sqrt(np.mean(middle**2)) < speech_rms / 30  # more than 29 dB below speech


@pytest.mark.parametrize(
    "config",
    [{}, {"speed": 1.6, "pitch": 1.3, "sample_rate": 16000, "output_format": "flac"}],
)
def test_sync_synthesis_reports_word_timings(client: TestClient, config: dict[str, Any]) -> None:
    headers = register_and_login(client, "words@example.com")
    response = client.post(
        "/api/v1/tts/synthesize",
        json={"text": TEXT, "timestamps": True, "config": config},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert [w["word"] for w in data["words"]] == WORDS
    samples, rate = _download(client, headers, data["audio_path"])
    assert rate == config.get("sample_rate", 22050)
    _check_against_audio(data["words"], samples, rate)


def test_timings_follow_speed(client: TestClient) -> None:
    headers = register_and_login(client, "speed-words@example.com")
    spans = []
    for speed in (1.0, 2.0):
        body = {"text": TEXT, "timestamps": True, "config": {"speed": speed}}
        words = client.post("/api/v1/tts/synthesize", json=body, headers=headers).json()
        spans.append(sum(w["end"] - w["start"] for w in words["data"]["words"]))
    # Faster speech, shorter words: the model's frame counts are whole frames rounded up, so
    # short phonemes do not halve exactly (0.64 measured at speed 2).
    assert 0.5 <= spans[1] / spans[0] < 0.75


def test_a_piper_clone_keeps_exact_timings(client: TestClient) -> None:
    headers = register_and_login(client, "clone-words@example.com")
    clone_id = add_ready_clone(client, "clone-words@example.com")
    body = {"text": TEXT, "voice_id": clone_id, "timestamps": True}
    data = client.post("/api/v1/tts/synthesize", json=body, headers=headers).json()["data"]
    assert data["voice_id"] == clone_id and [w["word"] for w in data["words"]] == WORDS
    samples, rate = _download(client, headers, data["audio_path"])
    _check_against_audio(data["words"], samples, rate)


def test_without_the_flag_there_are_no_timings(client: TestClient) -> None:
    headers = register_and_login(client, "no-words@example.com")
    data = client.post("/api/v1/tts/synthesize", json={"text": TEXT}, headers=headers).json()
    assert "words" not in data["data"]


def test_sse_chunks_carry_words_on_the_whole_speech_clock(client: TestClient) -> None:
    headers = register_and_login(client, "sse-words@example.com")
    with client.stream(
        "GET",
        "/api/v1/tts/synthesize/stream",
        params={"text": TEXT, "timestamps": "true"},
        headers=headers,
    ) as response:
        assert response.status_code == 200
        events = [
            json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")
        ]
    chunks = [e for e in events if e["type"] == "audio_chunk"]
    assert len(chunks) >= 2
    words = [w for chunk in chunks for w in chunk["words"]]
    assert [w["word"] for w in words] == WORDS
    pieces: list[np.ndarray] = []
    for chunk in chunks:
        encoded = chunk["audio_url"].split(",", 1)[1]
        samples, rate = sf.read(io.BytesIO(base64.b64decode(encoded)), dtype="float64")
        assert chunk["start"] == pytest.approx(sum(len(p) for p in pieces) / rate, abs=1e-3)
        pieces.append(samples)
    _check_against_audio(words, np.concatenate(pieces), rate)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/tts/synthesize/async", {"text": TEXT, "timestamps": True}),
        ("/api/v1/tts/stream", {"text": TEXT, "timestamps": True}),
    ],
)
def test_doors_without_timings_refuse_the_flag(
    client: TestClient, path: str, body: dict[str, Any]
) -> None:
    headers = register_and_login(client, "refuse-words@example.com")
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "INCOMPATIBLE_OPTIONS"


def test_words_align_where_context_changes_the_phonemes() -> None:
    # espeak said "on the" as one group with a reduced vowel; "2026" alone gives more
    # phonemes than were spoken. Every word still gets its own span, in order.
    alone = {"on": "ɑːn", "the": "ðə", "in": "ɪn", "2026": "tuːθaʊzəndtwɛntisɪks", "-": ""}
    spoken_phonemes = "ɔnðəɪntuːθaʊzəntwɛntisɪks"
    spoken = [TimedPhoneme(p, i * 0.1, i * 0.1 + 0.1) for i, p in enumerate(spoken_phonemes)]
    timed = word_timings("on the - in 2026", spoken, lambda token: tuple(alone[token]))
    assert [t.word for t in timed] == ["on", "the", "in", "2026"]
    assert timed[0].start == 0.0 and timed[-1].end == pytest.approx(len(spoken) * 0.1)
    assert all(a.end <= b.start and a.start < a.end for a, b in itertools.pairwise(timed))
