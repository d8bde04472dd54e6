"""XTTS clones on the CPU: a tiny random XTTS v2 checkpoint through the real coqui-tts code."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import torch
from fastapi.testclient import TestClient

from tests.unit.conftest import register_and_login
from tests.unit.test_voice_api import MALE, _services, nothing_stored, process, upload, wait_for
from tests.xtts_tiny import SAMPLES_PER_TOKEN, SPEAKERS, build_tiny_xtts
from voxify.api.app import create_app
from voxify.db.models import VoiceClone
from voxify.db.session import session_scope
from voxify.embeddings.encoder import SpeakerEncoder
from voxify.engines.piper import PiperEngine
from voxify.engines.xtts import XttsEngine, xtts_language
from voxify.inprocess import build_inprocess
from voxify.speech import Audio

TOKENS = 20  # a random model never stops on its own: every generation is capped


@pytest.fixture(scope="module")
def tiny_xtts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_xtts(tmp_path_factory.mktemp("xtts"))


def test_engine_loads_conditions_and_speaks(tiny_xtts: Path) -> None:
    engine = XttsEngine(tiny_xtts, max_new_tokens=TOKENS)
    assert engine.speakers == list(SPEAKERS)
    samples, rate = sf.read(MALE, dtype="float32")
    latents = engine.conditioning_latents([Audio(samples, rate)])
    stored = torch.load(io.BytesIO(latents), weights_only=True)
    assert stored["gpt_cond_latent"].shape == (1, 32, 64)
    assert stored["speaker_embedding"].shape == (1, 512, 1)
    first = engine.synthesize("Hello there.", language="en-GB", latents=latents, seed=3)
    again = engine.synthesize("Hello there.", language="en-GB", latents=latents, seed=3)
    assert first.sample_rate == 24000
    assert len(first.samples) == round(TOKENS * SAMPLES_PER_TOKEN)
    assert np.array_equal(first.samples, again.samples)  # seed control
    studio = engine.synthesize("Guten Tag.", language="de-DE", speaker=SPEAKERS[1])
    assert studio.duration > 0.5 and np.isfinite(studio.samples).all()
    assert xtts_language("zh-CN") == "zh-cn" and xtts_language("pt-PT") == "pt"
    with pytest.raises(ValueError):
        xtts_language("sw-KE")


def test_clone_trained_with_xtts_speaks_with_xtts(
    make_client: Any, tiny_xtts: Path, piper: PiperEngine, speaker_encoder: SpeakerEncoder
) -> None:
    client = make_client(xtts_model_dir=tiny_xtts, xtts_max_new_tokens=TOKENS)
    headers = register_and_login(client, "xtts@example.com")
    sample_id = upload(client, headers, MALE).json()["data"]["sample_id"]
    assert process(client, headers, sample_id)["status"] == "ready"
    clone_id = client.post(
        "/api/v1/voice/clones",
        headers=headers,
        json={"sample_ids": [sample_id], "name": "XTTS clone"},
    ).json()["data"]["clone_id"]
    clone = wait_for(client, headers, f"/api/v1/voice/clones/{clone_id}", ("ready", "failed"))
    assert clone["status"] == "ready" and clone["engine"] == "xtts", clone
    services = _services(client)
    with session_scope(services.sessions) as session:
        row = session.get(VoiceClone, clone_id)
        assert row is not None and row.latents_blob_key and row.conversion
        latents_key = row.latents_blob_key
    assert torch.load(io.BytesIO(services.blobs.get(latents_key)), weights_only=True)

    model = client.get(f"/api/v1/voice/models/{clone_id}", headers=headers).json()["data"]
    assert model["engine"] == "xtts" and "fr-FR" in model["languages"]
    spoken = client.post(
        "/api/v1/tts/synthesize",
        headers=headers,
        json={
            "text": "Bonjour tout le monde.",
            "voice_id": clone_id,
            "language": "fr-FR",
            "config": {"sample_rate": 24000},
        },
    )
    assert spoken.status_code == 200, spoken.text
    audio = client.get(spoken.json()["data"]["audio_path"], headers=headers).content
    samples, rate = sf.read(io.BytesIO(audio), dtype="float32")
    assert rate == 24000 and len(samples) == round(TOKENS * SAMPLES_PER_TOKEN)

    # The same clone on a deployment without XTTS: shown and spoken as the CPU clone it then is.
    cpu_only = TestClient(
        create_app(
            build_inprocess(
                services.settings.model_copy(update={"xtts_model_dir": None}),
                piper=piper,
                kokoro=False,
                encoder=speaker_encoder,
            )
        )
    )
    model = cpu_only.get(f"/api/v1/voice/models/{clone_id}", headers=headers).json()["data"]
    assert model["engine"] == "piper" and model["languages"] == ["en-US"]
    french = cpu_only.post(
        "/api/v1/tts/synthesize",
        headers=headers,
        json={"text": "Bonjour.", "voice_id": clone_id, "language": "fr-FR"},
    )
    assert french.status_code == 400 and "XTTS" in french.json()["error"]["message"]
    english = cpu_only.post(
        "/api/v1/tts/synthesize",
        headers=headers,
        json={"text": "Hello there.", "voice_id": clone_id},
    )
    assert english.status_code == 200 and english.json()["data"]["sample_rate"] == 22050

    assert client.delete(f"/api/v1/voice/clones/{clone_id}", headers=headers).status_code == 200
    assert not services.blobs.exists(latents_key)
    client.delete(f"/api/v1/voice/samples/{sample_id}", headers=headers)
    nothing_stored(services)


def test_studio_speakers_are_presets_with_seed_control(make_client: Any, tiny_xtts: Path) -> None:
    client = make_client(xtts_model_dir=tiny_xtts, xtts_max_new_tokens=TOKENS)
    headers = register_and_login(client, "studio@example.com")
    voices = client.get(
        "/api/v1/voice/models", headers=headers, params={"type": "preset", "limit": 100}
    ).json()["data"]
    ids = [v["voice_model_id"] for v in voices if v["engine"] != "kokoro"]
    assert ids == ["default_voice_001", "xtts_studio_speaker_a", "xtts_studio_speaker_b"]
    studio = client.get("/api/v1/voice/models/xtts_studio_speaker_a", headers=headers)
    assert studio.json()["data"]["engine"] == "xtts"
    assert len(studio.json()["data"]["languages"]) == 17

    def speak(seed: int) -> bytes:
        response = client.post(
            "/api/v1/tts/synthesize",
            headers=headers,
            json={
                "text": "Buongiorno a tutti.",
                "voice_id": "xtts_studio_speaker_a",
                "language": "it",
                "seed": seed,
                "config": {"sample_rate": 24000},
            },
        )
        assert response.status_code == 200, response.text
        return client.get(response.json()["data"]["audio_path"], headers=headers).content

    assert speak(11) == speak(11)  # the same seed, the same audio
    assert speak(11) != speak(12)
    missing = client.get("/api/v1/voice/models/xtts_nobody", headers=headers)
    assert missing.status_code == 404
