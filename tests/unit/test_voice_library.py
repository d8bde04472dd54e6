"""The voice library (seed 000): filters, sorting, paging, previews, favorites, Kokoro blends."""

from __future__ import annotations

import io
from typing import Any

import soundfile as sf
from fastapi.testclient import TestClient

from tests.unit.conftest import register_and_login
from voxify.api.context import Services


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [voice["voice_model_id"] for voice in response.json()["data"]]


def _services(client: TestClient) -> Services:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services


def test_filters_sort_and_page(client: TestClient) -> None:
    headers = register_and_login(client, "library@example.com")

    def listed(**params: Any) -> Any:
        return client.get("/api/v1/voice/models", headers=headers, params=params)

    everything = listed(limit=100)
    assert everything.json()["meta"]["pagination"]["total_count"] == 55  # Piper + 54 Kokoro
    gentle = listed(tags="female,gentle", limit=100).json()["data"]
    assert gentle and all({"female", "gentle"} <= set(v["tags"]) for v in gentle)
    assert "kokoro_af_heart" in [v["voice_model_id"] for v in gentle]
    british_men = _ids(listed(engine="kokoro", gender="male", language="en-GB", limit=100))
    assert {"kokoro_bm_george", "kokoro_bm_lewis"} <= set(british_men)
    assert all(v.startswith(("kokoro_am_", "kokoro_bm_")) for v in british_men)
    assert _ids(listed(engine="piper")) == ["default_voice_001"]
    assert _ids(listed(type="custom")) == []
    voice = listed(language="fr-FR").json()["data"][0]
    assert voice["voice_model_id"] == "kokoro_ff_siwis" and voice["gender"] == "female"
    assert voice["model_config"]["sample_rate"] == 24000 and voice["accent"] == "french"

    by_name = _ids(listed(engine="kokoro", sort="name", limit=100))
    names = [v["name"] for v in listed(engine="kokoro", sort="name", limit=100).json()["data"]]
    assert names == sorted(names) and len(by_name) == 54
    best = listed(sort="quality_score", order="desc", limit=3).json()["data"]
    assert best[0]["voice_model_id"] == "kokoro_af_heart"  # model-card grade A
    assert [v["quality_score"] for v in best] == sorted(
        (v["quality_score"] for v in best), reverse=True
    )

    first = listed(engine="kokoro", sort="name", page=2, page_size=10)
    assert _ids(first) == by_name[10:20]
    assert first.json()["meta"]["pagination"]["has_prev"] is True
    assert _ids(listed(engine="kokoro", sort="name", offset=10, limit=10)) == by_name[10:20]
    assert listed(gender="robot").status_code == 422
    assert listed(engine="nope").status_code == 422


def test_favorites_belong_to_one_user(client: TestClient) -> None:
    alice = register_and_login(client, "alice@example.com")
    bob = register_and_login(client, "bob@example.com")
    for voice in ("kokoro_bf_emma", "default_voice_001", "kokoro_bf_emma"):  # twice: idempotent
        added = client.post(f"/api/v1/voice/models/{voice}/favorite", headers=alice)
        assert added.status_code == 200 and added.json()["data"]["is_favorite"] is True
    favorites = client.get("/api/v1/voice/models", headers=alice, params={"favorite": "true"})
    assert sorted(_ids(favorites)) == ["default_voice_001", "kokoro_bf_emma"]
    assert client.get("/api/v1/voice/models/kokoro_bf_emma", headers=alice).json()["data"][
        "is_favorite"
    ]
    assert _ids(client.get("/api/v1/voice/models", headers=bob, params={"favorite": "true"})) == []
    assert not client.get("/api/v1/voice/models/kokoro_bf_emma", headers=bob).json()["data"][
        "is_favorite"
    ]
    shared = client.post("/api/v1/voice/models/default_voice_001/favorite", headers=bob).json()
    assert shared["data"]["favorites_count"] == 2
    assert shared["message"] == "Voice model added to favorites"
    removed = client.delete("/api/v1/voice/models/kokoro_bf_emma/favorite", headers=alice)
    assert removed.status_code == 200
    assert _ids(client.get("/api/v1/voice/models", headers=alice, params={"favorite": "true"})) == [
        "default_voice_001"
    ]
    assert client.post("/api/v1/voice/models/no_such/favorite", headers=alice).status_code == 404


def test_a_preview_is_rendered_once_and_stored(client: TestClient) -> None:
    headers = register_and_login(client, "preview@example.com")
    services = _services(client)
    described = client.get("/api/v1/voice/models/kokoro_ff_siwis/preview", headers=headers)
    assert described.status_code == 200, described.text
    info = described.json()["data"]
    assert info["preview_text"].startswith("Bonjour") and info["sample_rate"] == 24000
    assert info["preview_audio_url"] == "/api/v1/files/audio/previews/kokoro_ff_siwis.wav"
    first = client.get(info["preview_audio_url"], headers=headers)
    assert first.status_code == 200 and first.headers["content-type"] == "audio/wav"
    samples, rate = sf.read(io.BytesIO(first.content), dtype="float32")
    assert rate == 24000 and abs(len(samples) / rate - info["duration"]) < 0.01
    assert 1.0 < info["duration"] < 6.0
    other = register_and_login(client, "preview2@example.com")
    again = client.get(info["preview_audio_url"], headers=other)
    assert again.content == first.content
    assert services.previews.rendered == 1  # rendered once, then read back
    blend = client.get("/api/v1/voice/models/af_bella(2)+af_sky(1)/preview", headers=headers)
    blend_url = blend.json()["data"]["preview_audio_url"]
    assert client.get(blend_url, headers=headers).status_code == 200
    assert services.previews.rendered == 2
    assert client.get("/api/v1/voice/models/nope/preview", headers=headers).status_code == 404
    missing = client.get("/api/v1/files/audio/previews/nope.wav", headers=headers)
    assert missing.status_code == 404


def test_blends_speak_wherever_a_voice_id_does(client: TestClient) -> None:
    headers = register_and_login(client, "blend@example.com")
    spoken = client.post(
        "/api/v1/tts/synthesize",
        headers=headers,
        json={"text": "A blend of two voices.", "voice_id": "af_bella(2)+af_sky(1)"},
    )
    assert spoken.status_code == 200, spoken.text
    assert spoken.json()["data"]["voice_id"] == "af_bella(0.667)+af_sky(0.333)"
    assert spoken.json()["data"]["sample_rate"] == 24000
    one = client.get("/api/v1/voice/models/af_bella(2)+af_sky(1)", headers=headers).json()["data"]
    assert one["engine"] == "kokoro" and one["blend"][0] == {
        "voice": "af_bella",
        "weight": 0.666667,
    }

    job = client.post(
        "/api/v1/tts/synthesize/async",
        headers=headers,
        json={"text": "Queued, in a blend.", "voice_id": "am_michael+bm_george"},
    )
    assert job.status_code == 202, job.text
    openai = client.post(
        "/v1/audio/speech",
        headers=headers,
        json={"model": "tts-1", "input": "Hi.", "voice": "af_sky(1)+af_nova(1)"},
    )
    assert openai.status_code == 200 and openai.headers["x-voice-id"].startswith("af_")
    with client.stream(
        "POST",
        "/api/v1/tts/stream",
        headers=headers,
        json={"text": "First, a short clause. Then the rest of it.", "voice_id": "af_heart"},
    ) as stream:
        assert stream.status_code == 200
        assert len(b"".join(stream.iter_bytes())) > 24000  # more than half a second of audio

    # A voice native to another language speaks English when asked (accented), and its own
    # language when not.
    for language in ("en-US", None):
        accented = client.post(
            "/api/v1/tts/synthesize",
            headers=headers,
            json={"text": "Olá, bom dia.", "voice_id": "kokoro_pm_santa", "language": language},
        )
        assert accented.status_code == 200, accented.text
    foreign = client.post(
        "/api/v1/tts/synthesize",
        headers=headers,
        json={"text": "Hallo.", "voice_id": "kokoro_pm_santa", "language": "de-DE"},
    )
    assert foreign.status_code == 400

    bad = client.post(
        "/api/v1/tts/synthesize",
        headers=headers,
        json={"text": "x", "voice_id": "af_bella(2)+af_nope"},
    )
    assert bad.status_code == 400 and "af_nope" in bad.json()["error"]["message"]


def test_a_saved_blend_is_a_custom_voice_of_its_owner(client: TestClient) -> None:
    owner = register_and_login(client, "owner@example.com")
    other = register_and_login(client, "other@example.com")
    saved = client.post(
        "/api/v1/voice/models",
        headers=owner,
        json={"name": "Warm mix", "blend": "af_heart(3)+bf_emma(1)"},
    )
    assert saved.status_code == 201, saved.text
    voice = saved.json()["data"]
    assert voice["type"] == "custom" and voice["engine"] == "kokoro"
    assert voice["blend"] == [
        {"voice": "af_heart", "weight": 0.75},
        {"voice": "bf_emma", "weight": 0.25},
    ]
    voice_id = voice["voice_model_id"]
    mine = client.get("/api/v1/voice/models", headers=owner, params={"type": "custom"})
    assert _ids(mine) == [voice_id]
    assert _ids(client.get("/api/v1/voice/models", headers=other, params={"type": "custom"})) == []
    spoken = client.post(
        "/api/v1/tts/synthesize", headers=owner, json={"text": "Mine.", "voice_id": voice_id}
    )
    assert spoken.status_code == 200 and spoken.json()["data"]["sample_rate"] == 24000
    foreign = client.post(
        "/api/v1/tts/synthesize", headers=other, json={"text": "Theirs.", "voice_id": voice_id}
    )
    assert foreign.status_code == 404
    refused = client.post(
        "/api/v1/voice/models", headers=owner, json={"name": "x", "blend": "default_voice_001"}
    )
    assert refused.status_code in (400, 404)
