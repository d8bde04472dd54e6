"""A user's usage: today's syntheses against the quota, this minute's requests, the audio
they have made by voice and engine, and their jobs by type and status."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voxify import limits
from voxify.admin.runtime import RuntimeLimits
from voxify.db.models import File, Job, User


def usage(*, session: Session, limits_in_force: RuntimeLimits, user: User) -> dict[str, Any]:
    """Everything GET /api/v1/stats/me shows (``limits_in_force``: the user's)."""
    now = time.time()
    day = limits.window_count(
        session=session, key=limits.synthesis_key(user.id), window_s=limits.DAY_S, now=now
    )
    minute = limits.window_count(
        session=session, key=limits.request_key(user.id), window_s=60, now=now
    )
    day_end = (int(now // limits.DAY_S) + 1) * limits.DAY_S
    files, seconds, size = session.execute(
        select(
            func.count(File.id),
            func.coalesce(func.sum(File.duration), 0.0),
            func.coalesce(func.sum(File.size), 0),
        ).where(File.owner_id == user.id)
    ).one()
    return {
        "today": {
            "syntheses": day,
            "quota": limits_in_force.syntheses_per_day,
            "remaining": max(0, limits_in_force.syntheses_per_day - day),
            "resets_at": datetime.fromtimestamp(day_end, UTC),
        },
        "this_minute": {"requests": minute, "limit": limits_in_force.requests_per_minute},
        "audio": {"files": files, "seconds": round(float(seconds or 0.0), 3), "bytes": int(size)},
        "by_voice": _grouped(session, user.id, File.voice_id, "voice_id"),
        "by_engine": _grouped(session, user.id, File.engine, "engine"),
        "jobs": _jobs(session, user.id),
    }


def _grouped(session: Session, owner_id: str, column: Any, name: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(column, func.count(File.id), func.coalesce(func.sum(File.duration), 0.0))
        .where(File.owner_id == owner_id)
        .group_by(column)
        .order_by(func.sum(File.duration).desc())
    ).all()
    return [
        {name: key, "files": count, "seconds": round(float(seconds or 0.0), 3)}
        for key, count, seconds in rows
    ]


def _jobs(session: Session, owner_id: str) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    rows = session.execute(
        select(Job.type, Job.status, func.count(Job.id))
        .where(Job.user_id == owner_id)
        .group_by(Job.type, Job.status)
    ).all()
    for job_type, status, count in rows:
        counts.setdefault(str(job_type), {})[str(status)] = int(count)
    return counts
