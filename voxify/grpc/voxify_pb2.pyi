import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SynthesizeRequest(_message.Message):
    __slots__ = ("text", "voice_id", "language", "output_format", "sample_rate", "speed", "pitch", "volume", "seed")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    VOICE_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FORMAT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    SPEED_FIELD_NUMBER: _ClassVar[int]
    PITCH_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    text: str
    voice_id: str
    language: str
    output_format: str
    sample_rate: int
    speed: float
    pitch: float
    volume: float
    seed: int
    def __init__(self, text: _Optional[str] = ..., voice_id: _Optional[str] = ..., language: _Optional[str] = ..., output_format: _Optional[str] = ..., sample_rate: _Optional[int] = ..., speed: _Optional[float] = ..., pitch: _Optional[float] = ..., volume: _Optional[float] = ..., seed: _Optional[int] = ...) -> None: ...

class SynthesizeResponse(_message.Message):
    __slots__ = ("audio", "format", "sample_rate", "duration", "voice_id", "engine", "file_id", "size", "content_type")
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    VOICE_ID_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    audio: bytes
    format: str
    sample_rate: int
    duration: float
    voice_id: str
    engine: str
    file_id: str
    size: int
    content_type: str
    def __init__(self, audio: _Optional[bytes] = ..., format: _Optional[str] = ..., sample_rate: _Optional[int] = ..., duration: _Optional[float] = ..., voice_id: _Optional[str] = ..., engine: _Optional[str] = ..., file_id: _Optional[str] = ..., size: _Optional[int] = ..., content_type: _Optional[str] = ...) -> None: ...

class AudioChunk(_message.Message):
    __slots__ = ("audio",)
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    audio: bytes
    def __init__(self, audio: _Optional[bytes] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("job_id", "type", "status", "progress", "message", "title", "voice_model_id", "text_language", "text_length", "word_count", "output_format", "sample_rate", "speed", "pitch", "volume", "output_file_id", "output_file_path", "duration", "error_message", "attempts", "created_at", "updated_at", "started_at", "completed_at")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    VOICE_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TEXT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    WORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FORMAT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    SPEED_FIELD_NUMBER: _ClassVar[int]
    PITCH_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FILE_ID_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FILE_PATH_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    type: str
    status: str
    progress: float
    message: str
    title: str
    voice_model_id: str
    text_language: str
    text_length: int
    word_count: int
    output_format: str
    sample_rate: int
    speed: float
    pitch: float
    volume: float
    output_file_id: str
    output_file_path: str
    duration: float
    error_message: str
    attempts: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    def __init__(self, job_id: _Optional[str] = ..., type: _Optional[str] = ..., status: _Optional[str] = ..., progress: _Optional[float] = ..., message: _Optional[str] = ..., title: _Optional[str] = ..., voice_model_id: _Optional[str] = ..., text_language: _Optional[str] = ..., text_length: _Optional[int] = ..., word_count: _Optional[int] = ..., output_format: _Optional[str] = ..., sample_rate: _Optional[int] = ..., speed: _Optional[float] = ..., pitch: _Optional[float] = ..., volume: _Optional[float] = ..., output_file_id: _Optional[str] = ..., output_file_path: _Optional[str] = ..., duration: _Optional[float] = ..., error_message: _Optional[str] = ..., attempts: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class JobProgress(_message.Message):
    __slots__ = ("job_id", "status", "progress", "message", "output_file_path", "duration", "error_message")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FILE_PATH_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    status: str
    progress: float
    message: str
    output_file_path: str
    duration: float
    error_message: str
    def __init__(self, job_id: _Optional[str] = ..., status: _Optional[str] = ..., progress: _Optional[float] = ..., message: _Optional[str] = ..., output_file_path: _Optional[str] = ..., duration: _Optional[float] = ..., error_message: _Optional[str] = ...) -> None: ...

class ListVoicesRequest(_message.Message):
    __slots__ = ("type", "language", "gender", "engine", "tags", "favorite", "sort", "descending", "similar_to", "page", "page_size")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    GENDER_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    FAVORITE_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    DESCENDING_FIELD_NUMBER: _ClassVar[int]
    SIMILAR_TO_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    type: str
    language: str
    gender: str
    engine: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    favorite: bool
    sort: str
    descending: bool
    similar_to: str
    page: int
    page_size: int
    def __init__(self, type: _Optional[str] = ..., language: _Optional[str] = ..., gender: _Optional[str] = ..., engine: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., favorite: _Optional[bool] = ..., sort: _Optional[str] = ..., descending: _Optional[bool] = ..., similar_to: _Optional[str] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class Voice(_message.Message):
    __slots__ = ("voice_model_id", "name", "type", "engine", "language", "languages", "description", "tags", "gender", "age_group", "accent", "sample_rate", "quality_score", "owner_id", "preview_text", "is_favorite", "similarity", "created_at")
    VOICE_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    GENDER_FIELD_NUMBER: _ClassVar[int]
    AGE_GROUP_FIELD_NUMBER: _ClassVar[int]
    ACCENT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    QUALITY_SCORE_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_TEXT_FIELD_NUMBER: _ClassVar[int]
    IS_FAVORITE_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    voice_model_id: str
    name: str
    type: str
    engine: str
    language: str
    languages: _containers.RepeatedScalarFieldContainer[str]
    description: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    gender: str
    age_group: str
    accent: str
    sample_rate: int
    quality_score: float
    owner_id: str
    preview_text: str
    is_favorite: bool
    similarity: float
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, voice_model_id: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[str] = ..., engine: _Optional[str] = ..., language: _Optional[str] = ..., languages: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., gender: _Optional[str] = ..., age_group: _Optional[str] = ..., accent: _Optional[str] = ..., sample_rate: _Optional[int] = ..., quality_score: _Optional[float] = ..., owner_id: _Optional[str] = ..., preview_text: _Optional[str] = ..., is_favorite: _Optional[bool] = ..., similarity: _Optional[float] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Pagination(_message.Message):
    __slots__ = ("total_count", "page", "page_size", "total_pages", "has_next", "has_prev")
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PAGES_FIELD_NUMBER: _ClassVar[int]
    HAS_NEXT_FIELD_NUMBER: _ClassVar[int]
    HAS_PREV_FIELD_NUMBER: _ClassVar[int]
    total_count: int
    page: int
    page_size: int
    total_pages: int
    has_next: bool
    has_prev: bool
    def __init__(self, total_count: _Optional[int] = ..., page: _Optional[int] = ..., page_size: _Optional[int] = ..., total_pages: _Optional[int] = ..., has_next: _Optional[bool] = ..., has_prev: _Optional[bool] = ...) -> None: ...

class VoiceFilters(_message.Message):
    __slots__ = ("tags", "languages", "types", "genders", "engines")
    TAGS_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    GENDERS_FIELD_NUMBER: _ClassVar[int]
    ENGINES_FIELD_NUMBER: _ClassVar[int]
    tags: _containers.RepeatedScalarFieldContainer[str]
    languages: _containers.RepeatedScalarFieldContainer[str]
    types: _containers.RepeatedScalarFieldContainer[str]
    genders: _containers.RepeatedScalarFieldContainer[str]
    engines: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tags: _Optional[_Iterable[str]] = ..., languages: _Optional[_Iterable[str]] = ..., types: _Optional[_Iterable[str]] = ..., genders: _Optional[_Iterable[str]] = ..., engines: _Optional[_Iterable[str]] = ...) -> None: ...

class ListVoicesResponse(_message.Message):
    __slots__ = ("voices", "pagination", "available")
    VOICES_FIELD_NUMBER: _ClassVar[int]
    PAGINATION_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    voices: _containers.RepeatedCompositeFieldContainer[Voice]
    pagination: Pagination
    available: VoiceFilters
    def __init__(self, voices: _Optional[_Iterable[_Union[Voice, _Mapping]]] = ..., pagination: _Optional[_Union[Pagination, _Mapping]] = ..., available: _Optional[_Union[VoiceFilters, _Mapping]] = ...) -> None: ...
