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


def strong_password(value: str) -> str:
    """``value`` if it mixes at least three character classes, else ValueError."""
    classes = [
        any(c.islower() for c in value),
        any(c.isupper() for c in value),
        any(c.isdigit() for c in value),
        any(not c.isalnum() for c in value),
    ]
    if sum(classes) < 3:
        raise ValueError("must mix at least three of: lowercase, uppercase, digits, symbols")
    return value


class UserRegister(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=8, max_length=128)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)

    _printable = field_validator("first_name", "last_name")(printable_text)
    _strong = field_validator("password")(strong_password)


class UserLogin(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=128)


class RefreshRequest(BaseModel):
    refresh_token: str | None = Field(None, max_length=4096)


class LogoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str | None = Field(None, max_length=4096)  # else the Bearer token's session
    all_sessions: bool = False  # every session and access token of the account


class SignedOut(BaseModel):
    sessions_revoked: int
    access_tokens_revoked: bool  # True: every access token issued so far stopped working


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=8, max_length=128)
    revoke_api_keys: bool = False  # API keys are separate credentials: kept unless asked

    _strong = field_validator("new_password")(strong_password)


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


class PasswordChanged(TokenPair):
    """A new session for the caller, and what the change ended."""

    sessions_revoked: int
    api_keys_revoked: int
    api_keys_remaining: int


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
