"""voxify.v1 messages to and from the shapes the REST door uses, so that both doors validate
with the same schemas and describe things with the same fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from google.protobuf.message import Message

from voxify.api.envelope import MAX_PAGE_SIZE, Page
from voxify.db.models import Job
from voxify.errors import InvalidParameter
from voxify.grpc import voxify_pb2 as pb
from voxify.jobs.schemas import JobPublic, SynthesisOptions
from voxify.synthesis.schemas import TTSRequest
from voxify.synthesis.service import Synthesized
from voxify.voices.library import Voice
from voxify.voices.listing import VoiceListing, VoiceQuery

M = TypeVar("M", bound=Message)
OPTIONS = ("output_format", "sample_rate", "speed", "pitch", "volume")
DEFAULT_PAGE_SIZE = 20


def tts_request(message: pb.SynthesizeRequest) -> TTSRequest:
    """The request as REST's schema takes it (and checks it: a pydantic ValidationError names
    the message's own fields); unset and empty fields take REST's defaults."""
    given = {name: _value(message, name) for name in OPTIONS}
    options = SynthesisOptions(**{name: v for name, v in given.items() if v is not None})
    return TTSRequest(
        text=message.text,
        voice_id=message.voice_id or None,
        language=message.language or None,
        seed=_value(message, "seed"),
        config=options,
    )


def synthesized(result: Synthesized) -> pb.SynthesizeResponse:
    """The audio and what REST would say of its stored file."""
    file, voice = result.file, result.voice
    return pb.SynthesizeResponse(
        audio=result.data,
        format=file.format,
        sample_rate=file.sample_rate,
        duration=file.duration,
        voice_id=voice.voice_model_id,
        engine=voice.engine,
        file_id=file.id,
        size=file.size,
        content_type=file.content_type,
    )


def job(row: Job) -> pb.Job:
    """A job as REST shows it (JobPublic), in the message's fields."""
    return _message(pb.Job, JobPublic.of(row).model_dump())


def progress(event: Mapping[str, Any]) -> pb.JobProgress:
    """A progress event (voxify.jobs.progress) as a message."""
    return _message(pb.JobProgress, event)


def voice_query(message: pb.ListVoicesRequest) -> VoiceQuery:
    """The filters of REST's voice library (validated by the same model)."""
    return VoiceQuery(
        tags=",".join(message.tags) or None,
        language=message.language or None,
        type=message.type or None,
        gender=message.gender or None,
        engine=message.engine or None,
        favorite=message.favorite if message.HasField("favorite") else None,
        sort=message.sort or None,
        order="desc" if message.descending else "asc",
        similar_to=message.similar_to or None,
    )


def page(message: pb.ListVoicesRequest) -> Page:
    """The requested page (page from 1, page_size 1..MAX_PAGE_SIZE; 0: the default)."""
    size, number = message.page_size or DEFAULT_PAGE_SIZE, message.page or 1
    if not 1 <= size <= MAX_PAGE_SIZE or number < 1:
        raise InvalidParameter(
            f"page must be at least 1 and page_size between 1 and {MAX_PAGE_SIZE}",
            details={"page": message.page, "page_size": message.page_size},
        )
    return Page(limit=size, offset=(number - 1) * size)


def voices(listing: VoiceListing, window: Page) -> pb.ListVoicesResponse:
    """One page of a listing, with its pagination and the filter values available."""
    shown = listing.voices[window.offset : window.offset + window.limit]
    available = {name.removeprefix("available_"): v for name, v in listing.available.items()}
    return pb.ListVoicesResponse(
        voices=[_voice(voice, listing) for voice in shown],
        pagination=_message(pb.Pagination, window.pagination(len(listing.voices))),
        available=pb.VoiceFilters(**available),
    )


def _voice(voice: Voice, listing: VoiceListing) -> pb.Voice:
    fields = {name: getattr(voice, name, None) for name in pb.Voice.DESCRIPTOR.fields_by_name}
    fields["is_favorite"] = voice.voice_model_id in listing.favorites
    fields["similarity"] = listing.similarity.get(voice.voice_model_id)
    return pb.Voice(**fields)


def _value(message: Message, name: str) -> Any:
    """A field's value; None where an optional field is unset or a string is empty."""
    field = message.DESCRIPTOR.fields_by_name[name]
    if field.has_presence:
        return getattr(message, name) if message.HasField(name) else None
    return getattr(message, name) or None


def _message(cls: type[M], values: Mapping[str, Any]) -> M:
    """``cls`` from the values it has fields for (None: left unset)."""
    return cls(**{k: v for k, v in values.items() if k in cls.DESCRIPTOR.fields_by_name})
