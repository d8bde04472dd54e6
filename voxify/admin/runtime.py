"""The limits an administrator can change while the service runs.

Settings gives each limit its starting value; a changed value is a row in ``runtime_settings``.
Every process reads the rows at most every ``ttl_s`` seconds (one query), so a change made on
one ingress replica holds on all of them within seconds, and survives restarts.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from voxify.config import Settings
from voxify.db.models import RuntimeSetting, User
from voxify.db.session import session_scope
from voxify.errors import InvalidParameter


class RuntimeLimits(BaseModel):
    """Every limit that can change at run time, with the bounds a change must respect."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests_per_minute: int = Field(ge=1, le=1_000_000)
    syntheses_per_day: int = Field(ge=0, le=100_000_000)
    uploads_per_day: int = Field(ge=0, le=1_000_000)
    max_upload_bytes: int = Field(ge=64 * 1024, le=1024**3)
    max_sync_text_chars: int = Field(ge=1, le=100_000)
    max_stream_text_chars: int = Field(ge=1, le=1_000_000)
    max_job_text_chars: int = Field(ge=1, le=10_000_000)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.max_sync_text_chars > self.max_job_text_chars:
            raise ValueError("max_sync_text_chars cannot exceed max_job_text_chars")
        return self

    @classmethod
    def defaults(cls, settings: Settings) -> RuntimeLimits:
        """The limits as Settings starts them."""
        return cls(**{name: getattr(settings, name) for name in cls.model_fields})

    def merged(self, changes: dict[str, Any]) -> RuntimeLimits:
        """These limits with ``changes`` applied, validated as a whole (400 on a bad value)."""
        unknown = sorted(set(changes) - set(type(self).model_fields))
        if unknown:
            raise InvalidParameter(
                f"Unknown limit(s): {', '.join(unknown)}",
                details={"allowed": sorted(type(self).model_fields)},
            )
        return validated(type(self), {**self.model_dump(), **changes})

    def for_user(self, user: User) -> RuntimeLimits:
        """The limits that hold for ``user``: these, with the user's overrides."""
        if not user.quota_overrides:
            return self
        return self.model_copy(update=user.quota_overrides)


class QuotaOverrides(BaseModel):
    """A user's own limits; a field left out (or null) follows the service-wide value."""

    model_config = ConfigDict(extra="forbid")

    requests_per_minute: int | None = Field(None, ge=1, le=1_000_000)
    syntheses_per_day: int | None = Field(None, ge=0, le=100_000_000)
    uploads_per_day: int | None = Field(None, ge=0, le=1_000_000)

    def stored(self) -> dict[str, int] | None:
        """The overrides as the user row keeps them (None: none)."""
        values = self.model_dump(exclude_none=True)
        return values or None


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], values: dict[str, Any]) -> M:
    """``model`` built from ``values``; a validation error becomes a 400 naming each field."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = {".".join(map(str, e["loc"])) or "body": e["msg"] for e in exc.errors()}
        summary = "; ".join(f"{field}: {msg}" for field, msg in problems.items())
        raise InvalidParameter(f"Invalid limits: {summary}", details=problems) from None


class LiveLimits:
    """The current runtime limits, re-read from the database at most every ``ttl_s``."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, ttl_s: float = 2.0):
        self._sessions = sessions
        self.defaults = RuntimeLimits.defaults(settings)
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._value = self.defaults
        self._read_at = float("-inf")

    def current(self) -> RuntimeLimits:
        """The limits in force (at most ``ttl_s`` old)."""
        if time.monotonic() - self._read_at < self.ttl_s:
            return self._value
        with self._lock:
            if time.monotonic() - self._read_at >= self.ttl_s:
                with session_scope(self._sessions) as session:
                    self._value = self.read(session)
                self._read_at = time.monotonic()
        return self._value

    def for_user(self, user: User) -> RuntimeLimits:
        """The limits in force for ``user`` (with an administrator's overrides)."""
        return self.current().for_user(user)

    def read(self, session: Session) -> RuntimeLimits:
        """The limits as the database holds them now (defaults where nothing was changed).

        A stored value that no longer validates (bounds tightened by an upgrade) is ignored
        rather than stopping the service.
        """
        stored = {row.key: row.value for row in session.scalars(select(RuntimeSetting))}
        known = {k: v for k, v in stored.items() if k in RuntimeLimits.model_fields}
        try:
            return self.defaults.merged(known)
        except InvalidParameter:
            return self.defaults

    def write(self, session: Session, changes: dict[str, Any], *, actor_id: str) -> RuntimeLimits:
        """Store ``changes`` (a null value restores the default) and return the new limits.

        Call :meth:`expire` once the transaction commits: this process then sees them at
        once, the others within ``ttl_s``.
        """
        current = self.read(session)
        resets = {k for k, v in changes.items() if v is None}
        defaults = self.defaults.model_dump()  # an unknown name stays None: merged refuses it
        wanted = current.merged(
            {k: defaults.get(k) if v is None else v for k, v in changes.items()}
        )
        for key in changes:
            row = session.get(RuntimeSetting, key)
            if key in resets:
                if row is not None:
                    session.delete(row)
                continue
            if row is None:
                session.add(
                    RuntimeSetting(key=key, value=getattr(wanted, key), updated_by=actor_id)
                )
            else:
                row.value, row.updated_by = getattr(wanted, key), actor_id
        session.flush()
        return wanted

    def expire(self) -> None:
        """Read the database again on the next call."""
        self._read_at = float("-inf")
