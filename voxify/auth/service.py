"""Register, log in, refresh, and resolve a bearer token to its user."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voxify.auth import repository
from voxify.auth.passwords import hash_password, verify_password
from voxify.auth.schemas import TokenPair, UserPublic, UserRegister
from voxify.auth.tokens import decode_token, issue_token
from voxify.config import Settings
from voxify.db.models import User
from voxify.errors import EmailTaken, InvalidCredentials, InvalidToken


def user_public(user: User) -> UserPublic:
    """The public view of a user."""
    return UserPublic(
        user_id=user.id,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        role=user.role,
        created_at=user.created_at,
    )


def register(*, session: Session, settings: Settings, data: UserRegister) -> User:
    """Create an account; emails listed in ``admin_emails`` get the admin role."""
    if repository.get_user_by_email(session=session, email=data.email):
        raise EmailTaken()
    admins = {email.lower() for email in settings.admin_emails}
    role = "admin" if data.email.lower() in admins else "user"
    try:
        with session.begin_nested():
            return repository.create_user(
                session=session,
                email=data.email,
                password_hash=hash_password(data.password),
                first_name=data.first_name,
                last_name=data.last_name,
                role=role,
            )
    except IntegrityError as exc:  # a concurrent registration won the race
        raise EmailTaken() from exc


def _token_pair(settings: Settings, user: User) -> TokenPair:
    return TokenPair(
        access_token=issue_token(settings, user_id=user.id, role=user.role, kind="access"),
        refresh_token=issue_token(settings, user_id=user.id, role=user.role, kind="refresh"),
        expires_in=settings.access_token_ttl_s,
        user=user_public(user),
    )


def login(*, session: Session, settings: Settings, email: str, password: str) -> TokenPair:
    """Check credentials and issue an access/refresh pair."""
    user = repository.get_user_by_email(session=session, email=email)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise InvalidCredentials()
    if not user.is_active:
        raise InvalidCredentials("This account is disabled")
    return _token_pair(settings, user)


def refresh(*, session: Session, settings: Settings, refresh_token: str) -> TokenPair:
    """Exchange a valid refresh token for a new pair."""
    claims = decode_token(settings, refresh_token, kind="refresh")
    user = repository.get_user(session=session, user_id=claims.user_id)
    if user is None or not user.is_active:
        raise InvalidToken("Unknown or disabled account")
    return _token_pair(settings, user)


def authenticate(*, session: Session, settings: Settings, access_token: str) -> User:
    """The active user an access token belongs to."""
    claims = decode_token(settings, access_token, kind="access")
    user = repository.get_user(session=session, user_id=claims.user_id)
    if user is None or not user.is_active:
        raise InvalidToken("Unknown or disabled account")
    return user
