"""API keys: long-lived, scoped credentials for tools and scripts.

A key reads ``vx_<prefix>_<secret>``. Only the SHA-256 of the whole key is stored; the prefix
finds the row, so checking a key is one indexed lookup and one constant-time comparison. Every
request looks the key up again, so a deleted or expired key stops working at once on every
ingress replica.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from voxify.db.models import ApiKey, User, utcnow
from voxify.errors import Conflict, Forbidden, InvalidToken, NotFound, TokenExpired
from voxify.ids import new_id

KEY_PREFIX = "vx_"
MAX_KEYS_PER_USER = 50
# last_used_at is written at most this often per key: not a database write per request.
LAST_USED_EVERY = timedelta(seconds=60)


class Scope(StrEnum):
    """What a key may do; a signed-in session may do everything its role allows."""

    SYNTHESIZE = "synthesize"  # speech (sync, streams, jobs, OpenAI door), its files, history
    VOICES = "voices"  # samples and clones: upload, process, train, delete
    ADMIN = "admin"  # the admin API; only for keys of administrators


ALL_SCOPES = frozenset(Scope)


@dataclass(frozen=True)
class IssuedKey:
    """A new key's row and its secret, which is shown once and never stored."""

    row: ApiKey
    key: str


def looks_like_key(credential: str) -> bool:
    """True for a Voxify API key (as opposed to a JWT access token)."""
    return credential.startswith(KEY_PREFIX)


def create_key(
    *,
    session: Session,
    user: User,
    name: str,
    scopes: list[Scope],
    expires_at: datetime | None = None,
) -> IssuedKey:
    """Issue a key for ``user``; the admin scope only for administrators."""
    if Scope.ADMIN in scopes and user.role != "admin":
        raise Forbidden("Only administrators can create keys with the admin scope")
    count = session.scalar(select(func.count()).where(ApiKey.user_id == user.id)) or 0
    if count >= MAX_KEYS_PER_USER:
        raise Conflict(f"At most {MAX_KEYS_PER_USER} API keys per account; delete one first")
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        id=new_id("key"),
        user_id=user.id,
        name=name,
        prefix=prefix,
        secret_hash=_digest(key),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return IssuedKey(row=row, key=key)


def list_keys(*, session: Session, user_id: str) -> list[ApiKey]:
    """The user's keys, newest first."""
    query = select(ApiKey).where(ApiKey.user_id == user_id)
    return list(session.scalars(query.order_by(ApiKey.created_at.desc(), ApiKey.id)))


def delete_key(*, session: Session, user_id: str, key_id: str) -> None:
    """Revoke one of the user's keys; another user's key is NotFound, as if absent."""
    row = session.get(ApiKey, key_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"API key '{key_id}' not found")
    session.delete(row)


def delete_all_keys(*, session: Session, user_id: str) -> int:
    """Revoke every key of a user; how many there were."""
    deleted = session.execute(
        delete(ApiKey)
        .where(ApiKey.user_id == user_id)
        .returning(ApiKey.id)
        .execution_options(synchronize_session=False)
    )
    return len(deleted.all())


def authenticate_key(
    *, session: Session, key: str, now: datetime | None = None
) -> tuple[User, frozenset[Scope]]:
    """The active owner of ``key`` and the key's scopes; InvalidToken or TokenExpired."""
    now = now or utcnow()
    prefix, _, secret = key.removeprefix(KEY_PREFIX).partition("_")
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix)) if secret else None
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(key)):
        raise InvalidToken("Invalid API key")
    if row.expires_at is not None and row.expires_at <= now:
        raise TokenExpired("This API key has expired")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise InvalidToken("Unknown or disabled account")
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        session.execute(
            update(ApiKey)
            .where(ApiKey.id == row.id)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
    scopes = frozenset(Scope(s) for s in row.scopes if s in ALL_SCOPES)
    if user.role != "admin":
        scopes -= {Scope.ADMIN}  # a key never outranks its owner
    return user, scopes


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
