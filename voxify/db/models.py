"""SQLAlchemy 2 models of everything Voxify persists (blobs live in the BlobStore)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from voxify.status import CloneStatus, JobStatus, JobType, SampleStatus


def utcnow() -> datetime:
    """Timezone-aware now, the only clock the models use."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite alone would hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use voxify.db.models.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16), default="user")
    is_active: Mapped[bool] = mapped_column(default=True)
    # An administrator's per-user limits over the runtime ones: {"syntheses_per_day": 5000, ...}
    quota_overrides: Mapped[dict[str, int] | None] = mapped_column(JSON, default=None)
    selected_voice_id: Mapped[str | None] = mapped_column(String(200), default=None)
    # Every token carries the epoch it was issued in; raising it (a password change, signing
    # out everywhere) refuses all earlier tokens, checked on the user row each request reads.
    token_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class AuthSession(Base):
    """One sign-in: a family of refresh tokens, each used once and replaced by the next.

    ``token_id`` is the only refresh token of the family that may be used now; presenting an
    older one means a copy leaked, and revokes the family."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user_expires", "user_id", "expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_id: Mapped[str] = mapped_column(String(64))
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Job(Base):
    """One row per piece of background work; the row is the job's source of truth."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_user_created", "user_id", "created_at"),
        Index("ix_jobs_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32), default=JobType.SYNTHESIS)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(String(255), default=None)
    title: Mapped[str | None] = mapped_column(String(255), default=None)
    # What the job works on besides text: a voice sample (processing) or a clone (training).
    subject_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    voice_model_id: Mapped[str | None] = mapped_column(String(200), default=None)
    text_content: Mapped[str | None] = mapped_column(Text, default=None)
    text_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    text_language: Mapped[str] = mapped_column(String(16), default="en-US")
    text_length: Mapped[int] = mapped_column(Integer, default=0)
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    output_format: Mapped[str] = mapped_column(String(8), default="wav")
    sample_rate: Mapped[int] = mapped_column(Integer, default=22050)
    speed: Mapped[float] = mapped_column(Float, default=1.0)
    pitch: Mapped[float] = mapped_column(Float, default=1.0)
    volume: Mapped[float] = mapped_column(Float, default=1.0)
    output_file_id: Mapped[str | None] = mapped_column(String(32), default=None)
    output_file_path: Mapped[str | None] = mapped_column(String(255), default=None)
    duration: Mapped[float | None] = mapped_column(Float, default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    runner_id: Mapped[str | None] = mapped_column(String(128), default=None)
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)  # who asked
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class VoiceSample(Base):
    """An uploaded recording of a voice; processing turns it into a clean, embedded sample."""

    __tablename__ = "voice_samples"
    __table_args__ = (Index("ix_voice_samples_user_created", "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    language: Mapped[str] = mapped_column(String(16), default="en-US")
    transcript: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(16), default=SampleStatus.UPLOADED)
    format: Mapped[str] = mapped_column(String(8))
    original_filename: Mapped[str] = mapped_column(String(255))
    file_size: Mapped[int] = mapped_column(Integer)
    duration: Mapped[float] = mapped_column(Float)
    original_sample_rate: Mapped[int] = mapped_column(Integer)
    channels: Mapped[int] = mapped_column(Integer, default=1)
    upload_blob_key: Mapped[str] = mapped_column(String(512))
    processed_blob_key: Mapped[str | None] = mapped_column(String(512), default=None)
    processed_duration: Mapped[float | None] = mapped_column(Float, default=None)
    quality_score: Mapped[float | None] = mapped_column(Float, default=None)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    job_id: Mapped[str | None] = mapped_column(String(32), default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class VoiceClone(Base):
    """A user's cloned voice: what each engine needs to speak like the clone's samples."""

    __tablename__ = "voice_clones"
    __table_args__ = (Index("ix_voice_clones_user_created", "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    language: Mapped[str] = mapped_column(String(16), default="en-US")
    status: Mapped[str] = mapped_column(String(16), default=CloneStatus.PENDING)
    sample_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    job_id: Mapped[str | None] = mapped_column(String(32), default=None)
    engine: Mapped[str] = mapped_column(String(16), default="piper")
    conversion: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    latents_blob_key: Mapped[str | None] = mapped_column(String(512), default=None)
    # A Kokoro voice: {"blend": [[pack, weight], ...], "conversion": WORLD params or None}
    # (a saved blend, or a clone's fitted style). ``conversion`` above is the Piper clone's.
    style: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    similarity: Mapped[float | None] = mapped_column(Float, default=None)
    baseline_similarity: Mapped[float | None] = mapped_column(Float, default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    trained_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class File(Base):
    """A stored audio artefact owned by one user; its bytes live in the BlobStore."""

    __tablename__ = "files"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    blob_key: Mapped[str] = mapped_column(String(512))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float, default=None)
    sample_rate: Mapped[int | None] = mapped_column(Integer, default=None)
    format: Mapped[str] = mapped_column(String(8))
    voice_id: Mapped[str | None] = mapped_column(String(200), default=None)  # who spoke it
    engine: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class VoiceFavorite(Base):
    """A voice one user marked as a favorite."""

    __tablename__ = "voice_favorites"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    voice_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VoicePreview(Base):
    """A voice's preview clip, rendered once and stored (blob key and what it holds)."""

    __tablename__ = "voice_previews"

    voice_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    blob_key: Mapped[str] = mapped_column(String(512))
    duration: Mapped[float] = mapped_column(Float)
    sample_rate: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RateCounter(Base):
    """Fixed-window counters shared by every ingress replica (rate limits and daily quotas)."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class ApiKey(Base):
    """A long-lived credential of one user: only its SHA-256 is kept, found by its prefix."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_user_created", "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RuntimeSetting(Base):
    """A runtime limit an administrator changed; every ingress replica reads it within seconds."""

    __tablename__ = "runtime_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_by: Mapped[str | None] = mapped_column(String(32), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    """One administrator's change: who, what, to whom, and each field before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_created", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    actor_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
