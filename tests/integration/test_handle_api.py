"""Another Serve application in the same Ray cluster calls Voxify through its deployment
handle: speech and a stream as an API key's owner, refusals as HandleError."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
import soundfile as sf

from tests.integration.conftest import login
from voxify.api.handle import HandleError


def _key(http: httpx.Client, scopes: list[str]) -> str:
    auth = login(http, f"handle-{uuid.uuid4().hex[:8]}@example.com")
    created = http.post(
        "/api/v1/auth/api-keys", headers=auth, json={"name": "app", "scopes": scopes}
    )
    assert created.status_code == 201, created.text
    key: str = created.json()["data"]["key"]
    return key


def test_a_second_serve_app_speaks_through_the_handle(http: httpx.Client) -> None:
    from ray import serve

    # Defined here, so that Ray ships the class by value (the tests package is not installed).
    @serve.deployment(ray_actor_options={"num_cpus": 0.1})
    class Caller:
        def __init__(self) -> None:
            self.voxify = serve.get_deployment_handle("Ingress", app_name="voxify")

        async def speak(self, key: str, text: str, **options: Any) -> tuple[bytes, dict[str, Any]]:
            result = await self.voxify.synthesize.remote(key, text, **options)
            return result.audio, result.info

        async def pieces(self, key: str, text: str) -> list[int]:
            sizes = []
            async for piece in self.voxify.options(stream=True).stream.remote(
                key, text, format="pcm"
            ):
                sizes.append(len(piece))
            return sizes

        async def refusal(self, key: str, text: str, **options: Any) -> tuple[str, int] | None:
            try:
                await self.voxify.synthesize.remote(key, text, **options)
            except HandleError as exc:
                return exc.code, exc.status
            return None

    caller = serve.run(Caller.bind(), name="caller", route_prefix=None)
    try:
        key = _key(http, ["synthesize"])
        audio, info = caller.speak.remote(
            key, "Hello from another application.", format="flac", timestamps=True
        ).result()
        samples, rate = sf.read(io.BytesIO(audio))
        assert rate == info["sample_rate"] == 22050 and info["engine"] == "piper"
        assert abs(len(samples) / rate - info["duration"]) < 0.01
        assert [w["word"] for w in info["words"]][:2] == ["Hello", "from"]

        # The Kokoro pool, a replica of its own, through the same door: a blend of two voices.
        kokoro, described = caller.speak.remote(
            key, "Kokoro speaks here.", voice_id="af_heart(2)+bf_emma(1)", format="wav"
        ).result()
        samples, rate = sf.read(io.BytesIO(kokoro))
        assert rate == described["sample_rate"] == 24000 and described["engine"] == "kokoro"
        assert 0.8 < len(samples) / rate < 4.0

        long_text = "The first sentence arrives early. The second one follows it. A third ends it."
        sizes = caller.pieces.remote(key, long_text).result()
        assert len(sizes) >= 2 and sum(sizes) > 22050 * 2  # pieces of 16-bit audio, > 1 s

        # The same rules as over HTTP: the key's scope, a known voice, a possible format.
        voices_only = _key(http, ["voices"])
        assert caller.refusal.remote(voices_only, "No.").result() == ("FORBIDDEN", 403)
        assert caller.refusal.remote("vx_000000000000_nope", "No.").result()[1] == 401
        assert caller.refusal.remote(key, "No.", voice_id="nobody").result() == ("NOT_FOUND", 404)
        refused = caller.refusal.remote(key, "No.", format="mp3", sample_rate=9000).result()
        assert refused == ("INCOMPATIBLE_OPTIONS", 422)
        for bad in ({"speed": 9.0}, {"volume": -1.0}, {"format": "midi"}, {"sample_rate": 100}):
            assert caller.refusal.remote(key, "No.", **bad).result() == ("VALIDATION_ERROR", 422)

        # It is the owner's speech: in their history and usage like any synthesis.
        auth = {"Authorization": f"Bearer {key}"}
        stats = http.get("/api/v1/stats/me", headers=auth).json()["data"]
        assert stats["today"]["syntheses"] == 3 and stats["audio"]["files"] == 2
    finally:
        serve.delete("caller")
