"""User rows: small functions over an explicit session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from voxify.db.models import User
from voxify.ids import new_id


def get_user(*, session: Session, user_id: str) -> User | None:
    """The user with this id, or None."""
    return session.get(User, user_id)


def get_user_by_email(*, session: Session, email: str) -> User | None:
    """The user with this email (case-insensitive), or None."""
    return session.scalar(select(User).where(User.email == email.lower()))


def create_user(
    *,
    session: Session,
    email: str,
    password_hash: str,
    first_name: str,
    last_name: str,
    role: str = "user",
) -> User:
    """Insert a user; the caller's transaction decides whether it lands."""
    user = User(
        id=new_id("usr"),
        email=email.lower(),
        password_hash=password_hash,
        first_name=first_name,
        last_name=last_name,
        role=role,
    )
    session.add(user)
    session.flush()
    return user
