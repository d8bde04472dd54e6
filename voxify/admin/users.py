"""Administrators manage accounts: find them, disable or enable them, change roles and
per-user quotas. Every change is audited in the same transaction."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from voxify.admin import audit
from voxify.admin.runtime import QuotaOverrides, RuntimeLimits
from voxify.auth.service import sign_out_everywhere
from voxify.db.models import User
from voxify.db.text_search import ESCAPE, contains_pattern
from voxify.errors import Conflict, NotFound

Role = Literal["user", "admin"]


class UserChange(BaseModel):
    """What an administrator may change on an account; fields left out stay as they are.
    ``quota_overrides`` replaces the user's overrides (``{}`` or null clears them)."""

    model_config = ConfigDict(extra="forbid")

    is_active: bool | None = None
    role: Role | None = None
    quota_overrides: QuotaOverrides | None = None


def find(
    session: Session,
    *,
    limit: int,
    offset: int,
    search: str | None = None,
    role: str | None = None,
    active: bool | None = None,
) -> tuple[list[User], int]:
    """One page of accounts (newest first) matching the filters, and how many match."""
    query = select(User)
    if search:
        pattern = contains_pattern(search.strip())
        query = query.where(
            or_(
                func.lower(User.email).like(pattern, escape=ESCAPE),
                func.lower(User.first_name).like(pattern, escape=ESCAPE),
                func.lower(User.last_name).like(pattern, escape=ESCAPE),
                User.id == search.strip(),
            )
        )
    if role:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.is_active.is_(active))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(User.created_at.desc(), User.id).limit(limit).offset(offset)
    return list(session.scalars(page)), total


def get(session: Session, user_id: str) -> User:
    """An account by id (404 when there is none)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found")
    return user


def change(session: Session, *, actor: User, user_id: str, data: UserChange) -> User:
    """Apply ``data`` to an account and audit it.

    An administrator cannot disable or demote their own account, and the last active
    administrator cannot be removed: someone must always be able to undo a change.
    """
    user = get(session, user_id)
    before = _state(user)
    fields = data.model_fields_set
    if "is_active" in fields and data.is_active is not None:
        if user.is_active and not data.is_active:
            # Its sessions end for good: enabling the account again does not revive them.
            sign_out_everywhere(session=session, user=user, reason="account disabled")
        user.is_active = data.is_active
    if "role" in fields and data.role is not None:
        user.role = data.role
    if "quota_overrides" in fields:
        user.quota_overrides = data.quota_overrides.stored() if data.quota_overrides else None
    after = _state(user)
    if user.id == actor.id and (not user.is_active or user.role != "admin"):
        raise Conflict("You cannot disable your own account or remove your own admin role")
    # Counted with this change: the session flushes it before the query.
    if _active_admin(before) and not _active_admin(after) and _active_admins(session) == 0:
        raise Conflict("This is the last active administrator; promote another one first")
    changes = audit.diff(before, after)
    if changes:
        audit.record(
            session,
            actor=actor,
            action="user.update",
            target_type="user",
            target_id=user.id,
            changes=changes,
        )
    session.flush()
    return user


def public(user: User, limits: RuntimeLimits) -> dict[str, Any]:
    """An account as an administrator sees it, with the limits that hold for it."""
    effective = limits.for_user(user)
    return {
        "user_id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "is_active": user.is_active,
        "quota_overrides": user.quota_overrides or {},
        "limits": {
            "requests_per_minute": effective.requests_per_minute,
            "syntheses_per_day": effective.syntheses_per_day,
            "uploads_per_day": effective.uploads_per_day,
        },
        "created_at": user.created_at.isoformat(),
        "updated_at": user.updated_at.isoformat(),
    }


def _state(user: User) -> dict[str, Any]:
    return {
        "is_active": user.is_active,
        "role": user.role,
        "quota_overrides": dict(user.quota_overrides or {}),
    }


def _active_admin(state: dict[str, Any]) -> bool:
    return bool(state["is_active"]) and state["role"] == "admin"


def _active_admins(session: Session) -> int:
    query = select(func.count(User.id)).where(User.role == "admin", User.is_active.is_(True))
    return session.scalar(query) or 0
