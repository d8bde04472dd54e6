"""Voice sample and clone rows: small functions over an explicit session, scoped to an owner."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voxify.db.models import VoiceClone, VoiceSample
from voxify.status import CloneStatus


def add(*, session: Session, row: VoiceSample | VoiceClone) -> None:
    """Insert a sample or clone row."""
    session.add(row)
    session.flush()


def get_sample(*, session: Session, sample_id: str, owner_id: str) -> VoiceSample | None:
    """The owner's sample, or None (another user's sample is simply absent)."""
    return session.scalar(
        select(VoiceSample).where(VoiceSample.id == sample_id, VoiceSample.user_id == owner_id)
    )


def get_samples(*, session: Session, sample_ids: Sequence[str], owner_id: str) -> list[VoiceSample]:
    """The owner's samples among ``sample_ids``, in the order asked for."""
    rows = session.scalars(
        select(VoiceSample).where(VoiceSample.id.in_(sample_ids), VoiceSample.user_id == owner_id)
    ).all()
    by_id = {row.id: row for row in rows}
    return [by_id[i] for i in sample_ids if i in by_id]


def list_samples(
    *,
    session: Session,
    owner_id: str,
    status: str | None,
    language: str | None,
    limit: int,
    offset: int,
) -> tuple[list[VoiceSample], int]:
    """One page of the owner's samples, newest first, and the total matching."""
    query = select(VoiceSample).where(VoiceSample.user_id == owner_id)
    if status:
        query = query.where(VoiceSample.status == status)
    if language:
        query = query.where(func.lower(VoiceSample.language) == language.lower())
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(
        query.order_by(VoiceSample.created_at.desc(), VoiceSample.id).limit(limit).offset(offset)
    ).all()
    return list(page), total


def get_clone(*, session: Session, clone_id: str, owner_id: str) -> VoiceClone | None:
    """The owner's clone, or None."""
    return session.scalar(
        select(VoiceClone).where(VoiceClone.id == clone_id, VoiceClone.user_id == owner_id)
    )


def list_clones(
    *, session: Session, owner_id: str, status: str | None, limit: int, offset: int
) -> tuple[list[VoiceClone], int]:
    """One page of the owner's clones, newest first, and the total matching."""
    query = select(VoiceClone).where(VoiceClone.user_id == owner_id)
    if status:
        query = query.where(VoiceClone.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(
        query.order_by(VoiceClone.created_at.desc(), VoiceClone.id).limit(limit).offset(offset)
    ).all()
    return list(page), total


def ready_clones(*, session: Session, owner_id: str) -> list[VoiceClone]:
    """The owner's clones that can speak, oldest first."""
    query = (
        select(VoiceClone)
        .where(VoiceClone.user_id == owner_id, VoiceClone.status == CloneStatus.READY)
        .order_by(VoiceClone.created_at, VoiceClone.id)
    )
    return list(session.scalars(query).all())


def delete(*, session: Session, row: VoiceSample | VoiceClone) -> None:
    """Remove a sample or clone row."""
    session.delete(row)
    session.flush()
