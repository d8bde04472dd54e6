"""File rows, always scoped to their owner."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from voxify.db.models import File, Job


def add_file(*, session: Session, file: File) -> File:
    """Insert a file row."""
    session.add(file)
    session.flush()
    return file


def get_file(*, session: Session, file_id: str, owner_id: str) -> File | None:
    """The owner's file with this id, or None."""
    return session.scalar(select(File).where(File.id == file_id, File.owner_id == owner_id))


def get_file_by_job(*, session: Session, job_id: str, owner_id: str) -> File | None:
    """The output file of the owner's job, or None."""
    query = (
        select(File)
        .join(Job, Job.output_file_id == File.id)
        .where(Job.id == job_id, Job.user_id == owner_id, File.owner_id == owner_id)
    )
    return session.scalar(query)


def delete_file(*, session: Session, file: File) -> None:
    """Remove a file row (the caller removes its blob after the commit)."""
    session.delete(file)
    session.flush()
