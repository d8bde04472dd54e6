"""Voxify's errors as gRPC statuses, and the messages' rules (no Ray, no server)."""

from __future__ import annotations

import grpc
import pytest
from pydantic import ValidationError

from voxify.errors import (
    AudioSilent,
    Conflict,
    EngineUnavailable,
    Forbidden,
    IncompatibleOptions,
    InvalidToken,
    NotFound,
    QuotaExceeded,
    SynthesisFailed,
    Unavailable,
    VoxifyError,
)
from voxify.grpc import messages
from voxify.grpc import voxify_pb2 as pb
from voxify.grpc.servicer import credential
from voxify.grpc.status import ERROR_CODE_KEY, RETRY_AFTER_KEY, invalid, refusal

Code = grpc.StatusCode


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (AudioSilent(), Code.INVALID_ARGUMENT),  # 400
        (IncompatibleOptions(), Code.INVALID_ARGUMENT),  # 422
        (EngineUnavailable(), Code.INVALID_ARGUMENT),  # 422
        (InvalidToken(), Code.UNAUTHENTICATED),
        (Forbidden(), Code.PERMISSION_DENIED),
        (NotFound(), Code.NOT_FOUND),
        (Conflict(), Code.FAILED_PRECONDITION),
        (QuotaExceeded(), Code.RESOURCE_EXHAUSTED),
        (Unavailable(), Code.UNAVAILABLE),
        (SynthesisFailed(), Code.INTERNAL),
        (VoxifyError(), Code.INTERNAL),
    ],
)
def test_each_status_maps_to_its_grpc_code(error: VoxifyError, code: grpc.StatusCode) -> None:
    answer = refusal(error)
    assert answer.code == code
    assert answer.details == f"{error.code}: {error.message}"
    assert (ERROR_CODE_KEY, error.code) in answer.trailing_metadata


def test_a_refusal_to_retry_says_when() -> None:
    answer = refusal(QuotaExceeded("Daily quota exceeded", retry_after=3600))
    assert dict(answer.trailing_metadata) == {
        ERROR_CODE_KEY: "QUOTA_EXCEEDED",
        RETRY_AFTER_KEY: "3600",
    }
    assert RETRY_AFTER_KEY not in dict(refusal(NotFound("No such voice")).trailing_metadata)


def test_requests_are_checked_by_the_rest_schemas_under_their_own_field_names() -> None:
    request = pb.SynthesizeRequest(text="Hi.", voice_id="af_sky", volume=0.0, seed=0)
    speech = messages.tts_request(request).speech()
    # Unset fields take REST's defaults; zero is a value where the field has presence.
    assert (speech.output_format, speech.speed, speech.volume, speech.seed) == ("wav", 1.0, 0.0, 0)
    assert speech.language is None and speech.sample_rate is None

    with pytest.raises(ValidationError) as caught:
        messages.tts_request(pb.SynthesizeRequest(text="Hi.", speed=9.0, output_format="xyz"))
    error = invalid(caught.value)
    assert refusal(error).code == Code.INVALID_ARGUMENT
    assert {d["field"] for d in error.details} == {"speed", "output_format"}

    with pytest.raises(ValidationError, match="text"):
        messages.tts_request(pb.SynthesizeRequest(text=""))


def test_voice_filters_and_pages_follow_the_rest_library() -> None:
    request = pb.ListVoicesRequest(tags=["female", "british"], engine="kokoro", page=2)
    query = messages.voice_query(request)
    assert (query.tags, query.engine, query.favorite, query.order) == (
        "female,british",
        "kokoro",
        None,
        "asc",
    )
    assert messages.page(request).offset == 20
    with pytest.raises(ValidationError):
        messages.voice_query(pb.ListVoicesRequest(gender="robot"))
    with pytest.raises(VoxifyError, match="page_size"):
        messages.page(pb.ListVoicesRequest(page_size=500))


class _Metadata:
    def __init__(self, *pairs: tuple[str, str]) -> None:
        self.pairs = pairs

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.pairs


def test_the_credential_comes_from_either_metadata_key() -> None:
    key = "vx_0123456789ab_secret"
    assert credential(_Metadata(("authorization", f"Bearer {key}"))) == key
    assert credential(_Metadata(("x-api-key", key), ("authorization", "Bearer other"))) == key
    for pairs in [(), (("authorization", key),), (("authorization", "Bearer "),)]:
        with pytest.raises(VoxifyError) as caught:
            credential(_Metadata(*pairs))
        assert refusal(caught.value).code == Code.UNAUTHENTICATED
