"""The audit log: every administrator's change, with each field before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voxify.db.models import AuditEntry, User
from voxify.ids import new_id
from voxify.observability.context import current_request_id


def record(
    session: Session,
    *,
    actor: User,
    action: str,
    target_type: str,
    target_id: str | None,
    changes: dict[str, Any],
) -> AuditEntry:
    """Add an entry in the caller's transaction: the change and its record commit together."""
    entry = AuditEntry(
        id=new_id("aud"),
        actor_id=actor.id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        changes=changes,
        request_id=current_request_id(),
    )
    session.add(entry)
    return entry


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``{field: {"before": old, "after": new}}`` for each field that changed."""
    return {
        key: {"before": before.get(key), "after": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def entries(
    session: Session,
    *,
    limit: int,
    offset: int,
    action: str | None = None,
    actor_id: str | None = None,
    target_id: str | None = None,
) -> tuple[list[AuditEntry], int]:
    """One page of entries, newest first, and how many match."""
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor_id:
        query = query.where(AuditEntry.actor_id == actor_id)
    if target_id:
        query = query.where(AuditEntry.target_id == target_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(AuditEntry.created_at.desc(), AuditEntry.id).limit(limit).offset(offset)
    return list(session.scalars(page)), total


def public(entry: AuditEntry) -> dict[str, Any]:
    """An entry as the API shows it."""
    return {
        "id": entry.id,
        "actor_id": entry.actor_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "changes": entry.changes,
        "request_id": entry.request_id,
        "created_at": entry.created_at.isoformat(),
    }
