"""Sign-in sessions: refresh-token families, rotated on every use, revoked on reuse.

A login starts a family. Each refresh replaces the family's one valid refresh token with a new
one (compare-and-set on the row, so two replicas cannot both honour the same token). A refresh
token that was already replaced can only be a copy, the owner's or a thief's: the family is
revoked, and both must sign in again.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from voxify.db.models import AuthSession, utcnow
from voxify.ids import new_id

# Why a family ended, as stored in ``revoked_reason``.
LOGOUT, LOGOUT_ALL, REUSE, PASSWORD_CHANGE = "logout", "logout_all", "reuse", "password_change"


def new_token_id() -> str:
    """A fresh refresh-token id (the token's ``jti``)."""
    return secrets.token_hex(16)


def start_session(
    *, session: Session, user_id: str, expires_at: datetime, now: datetime | None = None
) -> AuthSession:
    """A new family for a login; the user's expired families are forgotten on the way."""
    now = now or utcnow()
    # One row per sign-in: without this, a script that logs in every minute grows the table.
    session.execute(
        delete(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.expires_at < now)
        .execution_options(synchronize_session=False)
    )
    row = AuthSession(
        id=new_id("ses"), user_id=user_id, token_id=new_token_id(), expires_at=expires_at
    )
    session.add(row)
    session.flush()
    return row


def get_session(*, session: Session, session_id: str) -> AuthSession | None:
    """The family with this id, or None."""
    return session.get(AuthSession, session_id)


def rotate(
    *,
    session: Session,
    session_id: str,
    token_id: str,
    expires_at: datetime,
    now: datetime | None = None,
) -> str | None:
    """Replace the family's current token ``token_id``; the new token id, or None when
    ``token_id`` is not the current token of a live family."""
    now = now or utcnow()
    replacement = new_token_id()
    moved = session.execute(
        update(AuthSession)
        .where(
            AuthSession.id == session_id,
            AuthSession.token_id == token_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
        .values(token_id=replacement, refreshed_at=now, expires_at=expires_at)
        .returning(AuthSession.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return replacement if moved is not None else None


def is_current(*, session: Session, session_id: str, token_id: str) -> bool:
    """Whether ``token_id`` is the current refresh token of a live family."""
    row = session.get(AuthSession, session_id)
    return (
        row is not None
        and row.revoked_at is None
        and row.token_id == token_id
        and row.expires_at > utcnow()
    )


def revoke(*, session: Session, session_id: str, reason: str) -> int:
    """End one family (1), or nothing when it had already ended (0)."""
    ended = session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
        .returning(AuthSession.id)
        .execution_options(synchronize_session=False)
    )
    return len(ended.all())


def revoke_all(*, session: Session, user_id: str, reason: str) -> int:
    """End every live family of a user; how many ended."""
    ended = session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
        .returning(AuthSession.id)
        .execution_options(synchronize_session=False)
    )
    return len(ended.all())
