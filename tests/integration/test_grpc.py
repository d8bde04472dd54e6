"""The gRPC door on the shared Ray Serve instance, through Serve's own gRPC proxy, spoken to
with a real grpcio client: the same speech, jobs, voices and rules as REST."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import grpc
import httpx
import pytest

from tests.integration.conftest import login
from tests.speech import assert_real_speech
from voxify.grpc import voxify_pb2 as pb
from voxify.grpc.voxify_pb2_grpc import VoxifyStub

Metadata = list[tuple[str, str]]
SENTENCES = "The first sentence arrives early. The second one follows it. A third ends it."


@pytest.fixture(scope="module")
def channel(serve_url: str, grpc_port: int) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=60)
        yield channel


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> VoxifyStub:
    return VoxifyStub(channel)


@pytest.fixture(scope="module")
def keys(serve_url: str) -> dict[str, str]:
    """Two keys of one new user: 'speech' (synthesize) and 'voices' (voices only)."""
    with httpx.Client(base_url=serve_url, timeout=60) as http:
        auth = login(http, f"grpc-{uuid.uuid4().hex[:8]}@example.com")
        made = {}
        for name, scopes in [("speech", ["synthesize"]), ("voices", ["voices"])]:
            created = http.post(
                "/api/v1/auth/api-keys", headers=auth, json={"name": name, "scopes": scopes}
            )
            assert created.status_code == 201, created.text
            made[name] = created.json()["data"]["key"]
    return made


def bearer(key: str) -> Metadata:
    # `application` picks the Serve app when the cluster runs more than one (other tests do).
    return [("authorization", f"Bearer {key}"), ("application", "voxify")]


def stream_error(call: Iterator[object]) -> grpc.RpcError:
    """The error a streaming call ends with (it comes as the stream is read)."""
    with pytest.raises(grpc.RpcError) as caught:
        list(call)
    return caught.value


def test_synthesize_answers_real_speech_kept_in_the_history(
    stub: VoxifyStub, keys: dict[str, str], serve_url: str
) -> None:
    request = pb.SynthesizeRequest(text="Hello from the gRPC door of Voxify.", output_format="wav")
    reply = stub.Synthesize(request, metadata=bearer(keys["speech"]), timeout=60)
    stats = assert_real_speech(reply.audio, words=7)
    assert stats.duration_s > 0.5
    assert (reply.format, reply.sample_rate, reply.engine) == ("wav", 22050, "piper")
    assert reply.voice_id == "default_voice_001" and reply.size == len(reply.audio)
    assert abs(reply.duration - stats.duration_s) < 0.01
    # The same synthesis service as REST: the file is the owner's, and counted in their usage.
    headers = {"X-API-Key": keys["speech"]}
    with httpx.Client(base_url=serve_url, timeout=60, headers=headers) as http:
        stored = http.get(f"/api/v1/files/audio/{reply.file_id}")
        assert stored.status_code == 200 and stored.content == reply.audio
        assert http.get("/api/v1/stats/me").json()["data"]["today"]["syntheses"] >= 1


def test_a_stream_arrives_in_pieces_that_make_one_file(
    stub: VoxifyStub, keys: dict[str, str]
) -> None:
    x_api_key = [("x-api-key", keys["speech"]), ("application", "voxify")]
    request = pb.SynthesizeRequest(text=SENTENCES)
    pieces = [chunk.audio for chunk in stub.SynthesizeStream(request, metadata=x_api_key)]
    assert len(pieces) >= 3 and all(pieces)
    assert_real_speech(b"".join(pieces), words=len(SENTENCES.split()))


def test_a_client_that_leaves_stops_the_rendering(stub: VoxifyStub, keys: dict[str, str]) -> None:
    from tests.integration.test_streaming import SENTENCE, synthesizer_stats

    before = synthesizer_stats()
    text = " ".join([SENTENCE] * 60)  # minutes of speech
    call = stub.SynthesizeStream(pb.SynthesizeRequest(text=text), metadata=bearer(keys["speech"]))
    assert next(call).audio
    call.cancel()
    deadline = time.monotonic() + 20
    while synthesizer_stats().get("streams_stopped", 0) <= before.get("streams_stopped", 0):
        assert time.monotonic() < deadline, "the replica kept rendering for a departed client"
        time.sleep(0.25)
    rendered = synthesizer_stats().get("pieces_rendered", 0) - before.get("pieces_rendered", 0)
    assert rendered < 20, f"{rendered} of 61 pieces rendered for a client that left"


def test_the_proxy_describes_the_service(channel: grpc.Channel) -> None:
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
        ProtoReflectionDescriptorDatabase,
    )

    reflected = ProtoReflectionDescriptorDatabase(channel)  # what grpcurl asks
    assert "voxify.v1.Voxify" in reflected.get_services()
    service = reflected.FindFileContainingSymbol("voxify.v1.Voxify").service[0]
    methods = {method.name for method in service.method}
    assert methods == {
        "Synthesize",
        "SynthesizeStream",
        "CreateJob",
        "GetJob",
        "WatchJob",
        "ListVoices",
    }


def test_voices_are_the_rest_librarys(
    stub: VoxifyStub, keys: dict[str, str], serve_url: str
) -> None:
    request = pb.ListVoicesRequest(
        engine="kokoro", gender="female", language="en-GB", page_size=2, page=1
    )
    reply = stub.ListVoices(request, metadata=bearer(keys["voices"]), timeout=60)
    assert len(reply.voices) == 2 and reply.pagination.total_count >= 2
    assert reply.pagination.has_next == (reply.pagination.total_count > 2)
    for voice in reply.voices:
        assert (voice.engine, voice.gender, voice.language) == ("kokoro", "female", "en-GB")
    assert "kokoro" in reply.available.engines and "piper" in reply.available.engines
    tagged = stub.ListVoices(
        pb.ListVoicesRequest(tags=["male", "american"], type="preset", page_size=100),
        metadata=bearer(keys["voices"]),
    )
    params = {"tags": "male,american", "type": "preset", "page_size": 100}
    with httpx.Client(base_url=serve_url, timeout=60) as http:
        rest = http.get(
            "/api/v1/voice/models", params=params, headers={"X-API-Key": keys["voices"]}
        )
    assert [v.voice_model_id for v in tagged.voices] == [
        v["voice_model_id"] for v in rest.json()["data"]
    ]
    assert "default_voice_001" in {v.voice_model_id for v in tagged.voices}


def test_a_job_is_watched_to_its_end_and_read_back(stub: VoxifyStub, keys: dict[str, str]) -> None:
    metadata = bearer(keys["speech"])
    created = stub.CreateJob(
        pb.SynthesizeRequest(text=SENTENCES, output_format="flac", speed=1.1),
        metadata=metadata,
        timeout=60,
    )
    assert created.job_id.startswith("job_") and created.status in ("pending", "processing")
    assert (created.output_format, created.speed) == ("flac", pytest.approx(1.1))
    started = time.monotonic()
    events = list(stub.WatchJob(pb.WatchJobRequest(job_id=created.job_id), metadata=metadata))
    assert time.monotonic() - started < 60
    assert events[-1].status == "completed" and events[-1].progress == 100
    assert [e.progress for e in events] == sorted(e.progress for e in events)
    job = stub.GetJob(pb.GetJobRequest(job_id=created.job_id), metadata=metadata, timeout=60)
    assert (job.status, job.output_file_path) == ("completed", events[-1].output_file_path)
    assert job.duration == pytest.approx(events[-1].duration) and job.duration > 1.0
    assert job.completed_at.ToDatetime() >= job.created_at.ToDatetime()


def test_refusals_carry_status_codes_and_voxify_codes(
    stub: VoxifyStub, keys: dict[str, str]
) -> None:
    speak = pb.SynthesizeRequest(text="Not to be spoken.")
    with pytest.raises(grpc.RpcError) as caught:
        stub.Synthesize(speak, metadata=[("application", "voxify")], timeout=60)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert caught.value.details().startswith("UNAUTHORIZED: ")

    forged = bearer("vx_000000000000_" + "x" * 43)
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListVoices(pb.ListVoicesRequest(), metadata=forged, timeout=60)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert ("voxify-error-code", "INVALID_TOKEN") in caught.value.trailing_metadata()

    unknown = pb.SynthesizeRequest(text="Nobody speaks this.", voice_id="vc_nobody")
    with pytest.raises(grpc.RpcError) as caught:
        stub.Synthesize(unknown, metadata=bearer(keys["speech"]), timeout=60)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert caught.value.details().startswith("NOT_FOUND: ")
    assert ("voxify-error-code", "NOT_FOUND") in caught.value.trailing_metadata()
    stream = stream_error(stub.SynthesizeStream(unknown, metadata=bearer(keys["speech"])))
    assert stream.code() == grpc.StatusCode.NOT_FOUND
    assert stream.details().startswith("NOT_FOUND: ")

    # A key without the synthesize scope may list voices (above) but not speak or queue.
    for call, message in [
        (stub.Synthesize, speak),
        (stub.CreateJob, pb.SynthesizeRequest(text="No.")),
    ]:
        with pytest.raises(grpc.RpcError) as caught:
            call(message, metadata=bearer(keys["voices"]), timeout=60)
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert caught.value.details().startswith("FORBIDDEN: ")

    with pytest.raises(grpc.RpcError) as caught:
        stub.Synthesize(
            pb.SynthesizeRequest(text="Too fast.", speed=9.0), metadata=bearer(keys["speech"])
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "speed" in caught.value.details()

    with pytest.raises(grpc.RpcError) as caught:
        stub.GetJob(pb.GetJobRequest(job_id="job_nobody"), metadata=bearer(keys["speech"]))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
