"""Fixed-window rate limits and daily quotas, counted in the shared database.

Counting in the metadata database (not in process memory) is what makes a limit hold across
every ingress replica.
"""

from __future__ import annotations

import time

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voxify.db.models import RateCounter
from voxify.db.session import after_rollback
from voxify.errors import QuotaExceeded, RateLimited
from voxify.observability import metrics

DAY_S = 86_400


def hit(
    *,
    session: Session,
    key: str,
    limit: int,
    window_s: int,
    now: float | None = None,
    error: type[RateLimited] = RateLimited,
) -> int:
    """Count one event under ``key``; raise ``error`` when the window already holds ``limit``."""
    now = time.time() if now is None else now
    window_start = _window_start(now, window_s)
    retry_after = max(1, int(window_start + window_s - now))
    bump = (
        update(RateCounter)
        .where(
            RateCounter.key == key,
            RateCounter.window_start == window_start,
            RateCounter.count < limit,
        )
        .values(count=RateCounter.count + 1)
        .returning(RateCounter.count)
        # No counter object is loaded in the session: skip the ORM's in-Python re-evaluation
        # of the WHERE clause against it (a measurable share of the ingress's CPU per request).
        .execution_options(synchronize_session=False)
    )
    counted = session.execute(bump).scalar_one_or_none()
    if counted is not None:
        return int(counted)
    if _count(session, key, window_start) >= limit:
        _count_rejection(session, key)
        raise error(
            f"Limit of {limit} per {_describe(window_s)} reached; retry in {retry_after} s",
            retry_after=retry_after,
            details={"limit": limit, "window_s": window_s, "retry_after": retry_after},
        )
    try:
        with session.begin_nested():
            session.add(RateCounter(key=key, window_start=window_start, count=1))
    except IntegrityError:  # another replica opened the window first: count on it
        return hit(session=session, key=key, limit=limit, window_s=window_s, now=now, error=error)
    return 1


def hit_daily(*, session: Session, key: str, limit: int, now: float | None = None) -> int:
    """Count one event against a per-UTC-day quota."""
    return hit(session=session, key=key, limit=limit, window_s=DAY_S, now=now, error=QuotaExceeded)


def refund_daily(*, session: Session, key: str, now: float | None = None) -> None:
    """Give back one event of today's quota: the work it paid for was refused (overload)."""
    window_start = _window_start(time.time() if now is None else now, DAY_S)
    session.execute(
        update(RateCounter)
        .where(
            RateCounter.key == key, RateCounter.window_start == window_start, RateCounter.count > 0
        )
        .values(count=RateCounter.count - 1)
        .execution_options(synchronize_session=False)
    )


def window_count(*, session: Session, key: str, window_s: int, now: float | None = None) -> int:
    """Events counted under ``key`` in the current window (without counting one)."""
    now = time.time() if now is None else now
    return _count(session, key, _window_start(now, window_s))


def request_key(user_id: str) -> str:
    """The per-minute request limit's key of a user (every authenticated request counts)."""
    return f"req:{user_id}"


def upload_key(user_id: str) -> str:
    """The daily upload quota's key of a user."""
    return f"upload:{user_id}"


def synthesis_key(user_id: str) -> str:
    """The daily-quota key every synthesis (job, sync, stream) counts under, and refunds to."""
    return f"synth:{user_id}"


# What each counter key limits (its prefix), as metrics and the admin statistics name it.
LIMIT_NAMES = {
    "req": "requests_per_minute",
    "synth": "syntheses_per_day",
    "upload": "uploads_per_day",
}
UNLIMITED = 2**62


def rejection_key(limit_name: str) -> str:
    """The daily counter of requests refused by ``limit_name`` (admin statistics)."""
    return f"rejected:{limit_name}"


def _count_rejection(session: Session, key: str) -> None:
    """Count a refusal: in this process's metrics now, in the database once the refused
    request's transaction has rolled back (see ``session_scope``)."""
    name = LIMIT_NAMES.get(key.partition(":")[0], "other")
    metrics.LIMIT_REJECTIONS.inc(limit=name)

    def remember(fresh: Session) -> None:
        hit(session=fresh, key=rejection_key(name), limit=UNLIMITED, window_s=DAY_S)

    after_rollback(session, remember)


def _window_start(now: float, window_s: int) -> int:
    return int(now // window_s) * window_s


def _count(session: Session, key: str, window_start: int) -> int:
    query = select(RateCounter.count).where(
        RateCounter.key == key, RateCounter.window_start == window_start
    )
    return session.scalar(query) or 0


def _describe(window_s: int) -> str:
    return {60: "minute", 3600: "hour", DAY_S: "day"}.get(window_s, f"{window_s} s")
