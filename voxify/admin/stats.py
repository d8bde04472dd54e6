"""The service at a glance for administrators: users, jobs, audio made, pools, storage,
refusals. Everything but the pools comes from the shared database, so every ingress
replica answers the same."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from voxify import limits
from voxify.admin.serving import PoolState
from voxify.db.models import File, Job, RateCounter, User, VoiceClone, VoiceSample
from voxify.status import JobStatus


def service_stats(
    session: Session, *, pools: list[PoolState], in_flight: Mapping[str, int]
) -> dict[str, Any]:
    """Everything GET /api/v1/admin/stats shows; ``in_flight``: renders this replica awaits
    per engine."""
    day_start = int(time.time() // limits.DAY_S) * limits.DAY_S
    jobs = job_counts(session)
    return {
        "users": _users(session, day_start),
        "jobs": jobs,
        "queue": {
            "pending": sum(row["count"] for row in jobs if row["status"] == JobStatus.PENDING),
            "processing": sum(
                row["count"] for row in jobs if row["status"] == JobStatus.PROCESSING
            ),
        },
        "audio": _audio(session),
        "pools": [
            {**pool.public(), "in_flight_here": max(0, in_flight.get(pool.engine, 0))}
            for pool in pools
        ],
        "storage": _storage(session),
        "rejections_today": {
            name: limits.window_count(
                session=session, key=limits.rejection_key(name), window_s=limits.DAY_S
            )
            for name in limits.LIMIT_NAMES.values()
        },
        "voices": {
            "samples": session.scalar(select(func.count(VoiceSample.id))) or 0,
            "clones": session.scalar(select(func.count(VoiceClone.id))) or 0,
        },
    }


def job_counts(session: Session) -> list[dict[str, Any]]:
    """Jobs by type and status."""
    rows = session.execute(
        select(Job.type, Job.status, func.count(Job.id)).group_by(Job.type, Job.status)
    ).all()
    return [{"type": t, "status": s, "count": n} for t, s, n in sorted(rows)]


def _users(session: Session, day_start: int) -> dict[str, int]:
    total, active, admins = session.execute(
        select(
            func.count(User.id),
            func.count(User.id).filter(User.is_active.is_(True)),
            func.count(User.id).filter(User.role == "admin"),
        )
    ).one()
    # A user is active today when a request of theirs was counted today: the per-minute
    # request windows of today (kept in the shared counters) name them.
    seen = session.scalar(
        select(func.count(distinct(RateCounter.key))).where(
            RateCounter.key.like(f"{limits.request_key('')}%"),
            RateCounter.window_start >= day_start,
        )
    )
    return {
        "total": total,
        "active": active,
        "disabled": total - active,
        "admins": admins,
        "active_today": seen or 0,
    }


def _audio(session: Session) -> dict[str, Any]:
    """Seconds of speech in the stored outputs, by the engine that spoke them."""
    rows = session.execute(
        select(
            File.engine, func.count(File.id), func.coalesce(func.sum(File.duration), 0.0)
        ).group_by(File.engine)
    ).all()
    by_engine = sorted(
        ((engine or "unknown", int(n), round(float(sec or 0.0), 3)) for engine, n, sec in rows),
        key=lambda row: -row[2],
    )
    return {
        "seconds": round(sum(row[2] for row in by_engine), 3),
        "by_engine": [
            {"engine": engine, "files": n, "seconds": sec} for engine, n, sec in by_engine
        ],
    }


def _storage(session: Session) -> dict[str, int]:
    outputs = session.scalar(select(func.coalesce(func.sum(File.size), 0))) or 0
    uploads = session.scalar(select(func.coalesce(func.sum(VoiceSample.file_size), 0))) or 0
    return {
        "output_bytes": int(outputs),
        "upload_bytes": int(uploads),
        "total_bytes": int(outputs + uploads),
    }
