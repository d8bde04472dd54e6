"""JWT access and refresh tokens."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Literal

import jwt

from voxify.config import Settings
from voxify.errors import InvalidToken, TokenExpired

TokenKind = Literal["access", "refresh"]


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    role: str
    kind: TokenKind
    expires_at: int


def issue_token(settings: Settings, *, user_id: str, role: str, kind: TokenKind) -> str:
    """Sign a token of the given kind for a user."""
    now = int(time.time())
    ttl = settings.access_token_ttl_s if kind == "access" else settings.refresh_token_ttl_s
    claims = {
        "sub": user_id,
        "role": role,
        "typ": kind,
        "iat": now,
        "exp": now + ttl,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm)


def decode_token(settings: Settings, token: str, *, kind: TokenKind) -> TokenClaims:
    """Verify signature, expiry and kind; raise TokenExpired or InvalidToken."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[settings.jwt_algorithm],
            options={"require": ["sub", "exp", "typ"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired() from exc
    except jwt.InvalidTokenError as exc:
        raise InvalidToken() from exc
    if claims.get("typ") != kind:
        raise InvalidToken(f"Expected an {kind} token")
    return TokenClaims(
        user_id=str(claims["sub"]),
        role=str(claims.get("role", "user")),
        kind=kind,
        expires_at=int(claims["exp"]),
    )
