"""Request and response shapes of the auth endpoints (seed 001)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from voxify.auth.keys import Scope


def printable_text(value: str) -> str:
    """``value`` stripped; ValueError when nothing printable is left."""
    value = value.strip()
    if not value or not value.isprintable():
        raise ValueError("must be non-empty printable text")
    return value


class UserRegister(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=8, max_length=128)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)

    _printable = field_validator("first_name", "last_name")(printable_text)

    @field_validator("password")
    @classmethod
    def _strong_enough(cls, value: str) -> str:
        classes = [
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            any(not c.isalnum() for c in value),
        ]
        if sum(classes) < 3:
            raise ValueError("must mix at least three of: lowercase, uppercase, digits, symbols")
        return value


class UserLogin(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=128)


class RefreshRequest(BaseModel):
    refresh_token: str | None = None


class UserPublic(BaseModel):
    user_id: str
    email: str
    first_name: str
    last_name: str
    role: str
    created_at: datetime


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserPublic


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(
        default_factory=lambda: [Scope.SYNTHESIZE, Scope.VOICES], min_length=1
    )
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)

    _printable = field_validator("name")(printable_text)


class ApiKeyPublic(BaseModel):
    key_id: str
    name: str
    prefix: str  # shown so a person can tell keys apart: "vx_<prefix>_…"
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str  # the secret, returned once
