"""The deployment-handle door: synthesis for other Ray Serve applications, without HTTP.

The caller names an API key, and the same rules hold as at every door (the key's scopes, its
owner's rate limit and quota, voice ownership, text and format rules).

    handle = serve.get_deployment_handle("Ingress", app_name="voxify")
    result = await handle.synthesize.remote(api_key, "Hello.", format="mp3")
    async for piece in handle.options(stream=True).stream.remote(api_key, "Hello.", format="pcm"):
        ...
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from voxify.api.context import Services
from voxify.api.deps import authenticate_credential, require_scope
from voxify.auth.keys import Scope
from voxify.db.models import User
from voxify.errors import VoxifyError
from voxify.files.service import file_info
from voxify.jobs.schemas import SynthesisOptions
from voxify.observability.context import current_request_id, new_request_id, set_request_id
from voxify.synthesis.options import Speech
from voxify.synthesis.timings import word_timings

OPTIONS = ("voice_id", "format", "sample_rate", "speed", "pitch", "volume", "language", "seed")
RANGED = ("sample_rate", "speed", "pitch", "volume")


@dataclass(frozen=True)
class HandleResult:
    """What a handle call returns: the encoded audio and what an HTTP caller would be told."""

    audio: bytes
    info: dict[str, Any]


class HandleError(Exception):
    """A refusal, as plain data that pickles to the caller: the envelope's code, the HTTP
    status it would have had, the message and details."""

    def __init__(self, code: str, status: int, message: str, details: Any = None) -> None:
        super().__init__(code, status, message, details)  # args: what unpickling passes back
        self.code = code
        self.status = status
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return f"{self.message} ({self.code}, {self.status})"


async def synthesize(
    services: Services, api_key: str, text: str, *, timestamps: bool = False, **options: Any
) -> HandleResult:
    """Speak ``text`` as the key's owner; stored in their history like /tts/synthesize."""
    set_request_id(current_request_id() or new_request_id())  # this call's own task
    try:
        user = await _user(services, api_key)
        speech = _speech(text, options, timestamps=timestamps)
        result = await services.speech.synthesize(user, speech, via="handle")
    except VoxifyError as exc:
        raise _refusal(exc) from None
    voice = result.voice
    info = {**file_info(result.file), "voice_id": voice.voice_model_id, "engine": voice.engine}
    if timestamps:
        info.update(word_timings(result.audio, voice.engine))
    return HandleResult(result.data, info)


async def stream(
    services: Services, api_key: str, text: str, **options: Any
) -> AsyncIterator[bytes]:
    """The speech as encoded pieces, each as soon as it is rendered (format default wav)."""
    set_request_id(current_request_id() or new_request_id())
    try:
        user = await _user(services, api_key)
        speech = _speech(text, options)
        admitted = await services.speech.stream(user, speech, via="handle")
    except VoxifyError as exc:
        raise _refusal(exc) from None
    async for piece in admitted.encoded(speech.output_format):
        yield piece


async def _user(services: Services, api_key: str) -> User:
    user, scopes = await asyncio.to_thread(authenticate_credential, services, api_key)
    require_scope(scopes, Scope.SYNTHESIZE)
    return user


def _speech(text: str, options: dict[str, Any], *, timestamps: bool = False) -> Speech:
    unknown = set(options) - set(OPTIONS)
    if unknown:
        names = ", ".join(sorted(unknown))
        raise HandleError("VALIDATION_ERROR", 422, f"Unknown options: {names}")
    fmt = options.pop("format", "wav")
    ranged = {name: options.pop(name) for name in RANGED if name in options}
    try:  # the ranges REST's schema holds (speed, pitch, volume, sample rate, format)
        checked = SynthesisOptions(output_format=fmt, **ranged)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise HandleError("VALIDATION_ERROR", 422, f"Invalid options: {problems}") from None
    return Speech(text=text, timestamps=timestamps, **checked.model_dump(), **options)


def _refusal(exc: VoxifyError) -> HandleError:
    return HandleError(exc.code, exc.status_code, exc.message, exc.details)
