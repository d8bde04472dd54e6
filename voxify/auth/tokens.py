"""JWT access and refresh tokens: one pinned HMAC algorithm, rotating keys.

New tokens are signed with ``jwt_secret`` and name it in the ``kid`` header; tokens signed with
one of ``jwt_previous_secrets`` still verify until they expire, so a key can be rotated without
signing anyone out. A header naming any other algorithm (``none``, RS256, HS512 under HS256) is
refused before a key is tried.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

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
    token_id: str = ""  # jti: a refresh token's place in its session's family
    session_id: str | None = None  # sid: the sign-in this token belongs to (None: older tokens)
    epoch: int = 0  # ep: the user's token epoch when it was issued


def key_id(secret: str) -> str:
    """The ``kid`` that names a signing secret (a digest: it reveals nothing of the secret)."""
    return _key_id(secret)


@lru_cache(maxsize=16)
def _key_id(secret: str) -> str:
    return hashlib.sha256(b"voxify-jwt-kid:" + secret.encode()).hexdigest()[:16]


def issue_token(
    settings: Settings,
    *,
    user_id: str,
    role: str,
    kind: TokenKind,
    epoch: int = 0,
    session_id: str | None = None,
    token_id: str | None = None,
) -> str:
    """Sign a token of the given kind for a user with the current key."""
    now = int(time.time())
    ttl = settings.access_token_ttl_s if kind == "access" else settings.refresh_token_ttl_s
    claims: dict[str, Any] = {
        "sub": user_id,
        "role": role,
        "typ": kind,
        "iat": now,
        "exp": now + ttl,
        "jti": token_id or secrets.token_hex(16),
        "ep": epoch,
    }
    if session_id is not None:
        claims["sid"] = session_id
    return jwt.encode(
        claims,
        settings.jwt_secret,
        algorithm=settings.jwt_algorithm,
        headers={"kid": key_id(settings.jwt_secret)},
    )


def decode_token(settings: Settings, token: str, *, kind: TokenKind | None) -> TokenClaims:
    """Verify algorithm, signature, expiry and kind (None: either); raise TokenExpired or
    InvalidToken."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise InvalidToken() from exc
    if header.get("alg") != settings.jwt_algorithm:
        raise InvalidToken("Token signed with an algorithm this service does not accept")
    claims = _verified_claims(settings, token, header.get("kid"))
    typ = claims.get("typ")
    if typ not in ("access", "refresh") or (kind is not None and typ != kind):
        raise InvalidToken(f"Expected an {kind or 'access or refresh'} token")
    try:
        return TokenClaims(
            user_id=str(claims["sub"]),
            role=str(claims.get("role", "user")),
            kind=typ,
            expires_at=int(claims["exp"]),
            token_id=str(claims.get("jti", "")),
            session_id=str(claims["sid"]) if "sid" in claims else None,
            epoch=int(claims.get("ep", 0)),
        )
    except (TypeError, ValueError) as exc:  # signed by us, so only an old or odd shape
        raise InvalidToken() from exc


def _verified_claims(settings: Settings, token: str, kid: object) -> dict[str, Any]:
    secrets_by_kid = {key_id(s): s for s in (settings.jwt_secret, *settings.jwt_previous_secrets)}
    if kid is None:  # issued before tokens named their key: try each accepted key
        candidates = list(secrets_by_kid.values())
    elif isinstance(kid, str) and kid in secrets_by_kid:
        candidates = [secrets_by_kid[kid]]
    else:
        raise InvalidToken("Token signed with a key this service does not accept")
    for secret in candidates:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                secret,
                algorithms=[settings.jwt_algorithm],
                options={"require": ["sub", "exp", "typ"]},
            )
            return claims
        except jwt.InvalidSignatureError:
            continue
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired() from exc
        except jwt.InvalidTokenError as exc:
            raise InvalidToken() from exc
    raise InvalidToken()
