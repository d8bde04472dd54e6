"""Register, log in, refresh, log out, change the password; resolve an access token to its user.

Access tokens are stateless and short-lived; what ends them early is the user row each request
reads anyway: ``is_active`` and ``token_epoch`` (a password change or "sign out everywhere"
raises it). Refresh tokens belong to a session row (voxify/auth/sessions.py) and are rotated on
every use.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voxify.auth import keys, repository, sessions
from voxify.auth.passwords import hash_password, verify_password
from voxify.auth.schemas import PasswordChanged, SignedOut, TokenPair, UserPublic, UserRegister
from voxify.auth.tokens import TokenClaims, TokenKind, decode_token, issue_token
from voxify.config import Settings
from voxify.db.models import User, utcnow
from voxify.db.session import after_rollback
from voxify.errors import (
    EmailTaken,
    InvalidCredentials,
    InvalidParameter,
    InvalidToken,
    TokenExpired,
)

_SIGNED_OUT = "This token was issued before the password changed or every session was signed out"


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


def login(*, session: Session, settings: Settings, email: str, password: str) -> TokenPair:
    """Check credentials, start a session and issue its access/refresh pair."""
    user = repository.get_user_by_email(session=session, email=email)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise InvalidCredentials()
    if not user.is_active:
        raise InvalidCredentials("This account is disabled")
    return _new_session(session, settings, user)


def refresh(*, session: Session, settings: Settings, refresh_token: str) -> TokenPair:
    """Exchange a session's current refresh token for a new pair; the old token is spent.

    A spent token presented again revokes its whole session (after the caller's transaction
    rolls back), so a stolen copy is worth one refresh at most, to the thief or the owner.
    """
    claims = decode_token(settings, refresh_token, kind="refresh")
    if claims.session_id is None or not claims.token_id:
        raise InvalidToken("This refresh token predates sign-in sessions; sign in again")
    user = _live_user(session, claims)
    expires_at = utcnow() + timedelta(seconds=settings.refresh_token_ttl_s)
    token_id = sessions.rotate(
        session=session,
        session_id=claims.session_id,
        token_id=claims.token_id,
        expires_at=expires_at,
    )
    if token_id is not None:
        return _token_pair(settings, user, session_id=claims.session_id, token_id=token_id)
    row = sessions.get_session(session=session, session_id=claims.session_id)
    if row is None or row.user_id != user.id:
        raise InvalidToken("This session no longer exists; sign in again")
    if row.revoked_at is not None:
        raise InvalidToken(
            "This session has ended; sign in again", details={"reason": row.revoked_reason}
        )
    if row.expires_at <= utcnow():
        raise TokenExpired("This session has expired; sign in again")
    family = row.id

    def revoke_family(fresh: Session) -> None:
        sessions.revoke(session=fresh, session_id=family, reason=sessions.REUSE)

    after_rollback(session, revoke_family)
    raise InvalidToken(
        "This refresh token was already used, so a copy of it exists: its session is revoked "
        "and must sign in again",
        details={"reason": "refresh_token_reused"},
    )


def logout(*, session: Session, settings: Settings, token: str, everywhere: bool) -> SignedOut:
    """End the session an access or refresh token belongs to; ``everywhere``: every session of
    the user and every access token issued so far (the token must still be good for that)."""
    claims = decode_token(settings, token, kind=None)
    if everywhere:
        user = _live_user(session, claims)
        if claims.kind == "refresh" and not sessions.is_current(
            session=session, session_id=claims.session_id or "", token_id=claims.token_id
        ):
            raise InvalidToken("This refresh token is no longer valid; sign in again")
        ended = sign_out_everywhere(session=session, user=user, reason=sessions.LOGOUT_ALL)
        return SignedOut(sessions_revoked=ended, access_tokens_revoked=True)
    row = sessions.get_session(session=session, session_id=claims.session_id or "")
    if row is None or row.user_id != claims.user_id:
        return SignedOut(sessions_revoked=0, access_tokens_revoked=False)
    ended = sessions.revoke(session=session, session_id=row.id, reason=sessions.LOGOUT)
    return SignedOut(sessions_revoked=ended, access_tokens_revoked=False)


def change_password(
    *,
    session: Session,
    settings: Settings,
    user_id: str,
    current_password: str,
    new_password: str,
    revoke_api_keys: bool,
) -> PasswordChanged:
    """Replace the password; every session and access token issued before ends (API keys only
    when asked); the caller gets a new session."""
    user = repository.get_user(session=session, user_id=user_id)
    if user is None or not user.is_active:
        raise InvalidToken("Unknown or disabled account")
    if not verify_password(user.password_hash, current_password):
        # Not 401: the caller is signed in; a 401 would make clients drop their session.
        raise InvalidParameter(
            "The current password is not correct", details={"field": "current_password"}
        )
    if new_password == current_password:
        raise InvalidParameter(
            "The new password must differ from the current one", details={"field": "new_password"}
        )
    user.password_hash = hash_password(new_password)
    ended = sign_out_everywhere(session=session, user=user, reason=sessions.PASSWORD_CHANGE)
    deleted = keys.delete_all_keys(session=session, user_id=user.id) if revoke_api_keys else 0
    pair = _new_session(session, settings, user)
    return PasswordChanged(
        **pair.model_dump(),
        sessions_revoked=ended,
        api_keys_revoked=deleted,
        api_keys_remaining=len(keys.list_keys(session=session, user_id=user.id)),
    )


def sign_out_everywhere(*, session: Session, user: User, reason: str) -> int:
    """End every session of ``user`` and refuse every token issued so far (API keys aside);
    how many sessions ended."""
    _raise_epoch(session, user)
    return sessions.revoke_all(session=session, user_id=user.id, reason=reason)


def authenticate(*, session: Session, settings: Settings, access_token: str) -> User:
    """The active user an access token belongs to (one read: the user row)."""
    return _live_user(session, decode_token(settings, access_token, kind="access"))


def _live_user(session: Session, claims: TokenClaims) -> User:
    user = repository.get_user(session=session, user_id=claims.user_id)
    if user is None or not user.is_active:
        raise InvalidToken("Unknown or disabled account")
    if claims.epoch != user.token_epoch:
        raise InvalidToken(f"{_SIGNED_OUT}; sign in again")
    return user


def _raise_epoch(session: Session, user: User) -> None:
    """Refuse every token issued to ``user`` so far (atomically: replicas may race)."""
    session.flush()
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(token_epoch=User.token_epoch + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(user, ["token_epoch"])


def _new_session(session: Session, settings: Settings, user: User) -> TokenPair:
    expires_at = utcnow() + timedelta(seconds=settings.refresh_token_ttl_s)
    row = sessions.start_session(session=session, user_id=user.id, expires_at=expires_at)
    return _token_pair(settings, user, session_id=row.id, token_id=row.token_id)


def _token_pair(settings: Settings, user: User, *, session_id: str, token_id: str) -> TokenPair:
    def token(kind: TokenKind, jti: str | None) -> str:
        return issue_token(
            settings,
            user_id=user.id,
            role=user.role,
            kind=kind,
            epoch=user.token_epoch,
            session_id=session_id,
            token_id=jti,
        )

    return TokenPair(
        access_token=token("access", None),
        refresh_token=token("refresh", token_id),
        expires_in=settings.access_token_ttl_s,
        user=user_public(user),
    )
