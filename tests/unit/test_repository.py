"""Repository layer against SQLite and PostgreSQL: ownership, filters, atomic transitions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from voxify import limits
from voxify.auth import repository as users
from voxify.db.models import File, Job, utcnow
from voxify.db.session import make_engine, make_session_factory, session_scope
from voxify.errors import QuotaExceeded, RateLimited
from voxify.files import repository as files
from voxify.ids import new_id
from voxify.jobs import repository as jobs
from voxify.jobs.recovery import recover_jobs
from voxify.jobs.repository import JobFilters
from voxify.text import text_hash


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        yield session
    engine.dispose()


def make_user(session: Session, email: str) -> str:
    return users.create_user(
        session=session, email=email, password_hash="x", first_name="A", last_name="B"
    ).id


def make_job(session: Session, user_id: str, text: str, **values: object) -> Job:
    job = Job(
        id=new_id("job"),
        user_id=user_id,
        voice_model_id="default_voice_001",
        text_content=text,
        text_hash=text_hash(text),
        text_length=len(text),
        word_count=len(text.split()),
        **values,
    )
    return jobs.add_job(session=session, job=job)


def test_users_unique_case_insensitive_email(session: Session) -> None:
    user_id = make_user(session, "Mixed@Example.com")
    found = users.get_user_by_email(session=session, email="mixed@example.COM")
    assert found is not None and found.id == user_id
    assert users.get_user_by_email(session=session, email="other@example.com") is None


def test_jobs_are_scoped_filtered_sorted_paged(session: Session) -> None:
    alice, bob = make_user(session, "a@example.com"), make_user(session, "b@example.com")
    first = make_job(session, alice, "Alpha 100% done_here")
    second = make_job(session, alice, "Beta is a much longer text", status="completed")
    make_job(session, bob, "Bob's alpha")
    assert jobs.get_job(session=session, job_id=first.id, owner_id=bob) is None
    assert jobs.get_job(session=session, job_id=first.id, owner_id=alice) is first

    page, total = jobs.list_jobs(
        session=session,
        owner_id=alice,
        filters=JobFilters(),
        sort_by="text_length",
        descending=False,
        limit=1,
        offset=0,
    )
    assert total == 2 and [j.id for j in page] == [first.id]
    found, total = jobs.list_jobs(
        session=session,
        owner_id=alice,
        filters=JobFilters(text_search="ALPHA"),
        sort_by="created_at",
        descending=True,
        limit=10,
        offset=0,
    )
    assert [j.id for j in found] == [first.id]
    # LIKE wildcards in the search are literal characters, not patterns
    literal, _ = jobs.list_jobs(
        session=session,
        owner_id=alice,
        filters=JobFilters(text_search="100%"),
        sort_by="created_at",
        descending=True,
        limit=10,
        offset=0,
    )
    assert [j.id for j in literal] == [first.id]
    underscore, _ = jobs.list_jobs(
        session=session,
        owner_id=alice,
        filters=JobFilters(text_search="a_l"),
        sort_by="created_at",
        descending=True,
        limit=10,
        offset=0,
    )
    assert underscore == []
    done, total = jobs.list_jobs(
        session=session,
        owner_id=alice,
        filters=JobFilters(status="completed"),
        sort_by="created_at",
        descending=True,
        limit=10,
        offset=0,
    )
    assert [j.id for j in done] == [second.id] and total == 1


def test_transition_is_atomic_and_owned(session: Session) -> None:
    user = make_user(session, "t@example.com")
    job = make_job(session, user, "Claim me")
    assert jobs.transition(
        session=session,
        job_id=job.id,
        from_statuses=("pending",),
        status="processing",
        runner_id="r1",
    )
    assert not jobs.transition(
        session=session,
        job_id=job.id,
        from_statuses=("pending",),
        status="processing",
        runner_id="r2",
    )
    assert not jobs.transition(
        session=session,
        job_id=job.id,
        from_statuses=("processing",),
        owned_by="r2",
        status="completed",
    )
    assert jobs.transition(
        session=session,
        job_id=job.id,
        from_statuses=("processing",),
        owned_by="r1",
        status="completed",
    )
    session.refresh(job)
    assert job.status == "completed" and job.runner_id == "r1"


def test_recovery_requeues_or_fails_dead_runners(session: Session) -> None:
    user = make_user(session, "r@example.com")
    old = utcnow() - timedelta(minutes=5)
    stale = make_job(
        session,
        user,
        "Stale",
        status="processing",
        runner_id="gone:1",
        heartbeat_at=old,
        attempts=1,
    )
    exhausted = make_job(
        session,
        user,
        "Exhausted",
        status="processing",
        runner_id="gone:2",
        heartbeat_at=old,
        attempts=3,
    )
    dead_node = make_job(
        session,
        user,
        "Fresh beat, dead node",
        status="processing",
        runner_id="deadnode:3",
        heartbeat_at=utcnow(),
        attempts=1,
    )
    alive = make_job(
        session,
        user,
        "Alive",
        status="processing",
        runner_id="live:4",
        heartbeat_at=utcnow(),
        attempts=1,
    )
    requeued = recover_jobs(
        session=session,
        stale_after_s=30,
        max_attempts=3,
        is_runner_alive=lambda runner: runner.startswith("live:"),
    )
    assert sorted(requeued) == sorted([stale.id, dead_node.id])
    for job in (stale, exhausted, dead_node, alive):
        session.refresh(job)
    assert stale.status == "pending" and stale.runner_id is None
    assert "Re-queued" in (stale.message or "")
    assert exhausted.status == "failed" and "giving up" in (exhausted.error_message or "")
    assert dead_node.status == "pending"
    assert alive.status == "processing"
    assert jobs.pending_job_ids(session=session) == sorted(
        [stale.id, dead_node.id], key=lambda i: [stale.id, dead_node.id].index(i)
    )


def test_files_by_job_are_owner_scoped(session: Session) -> None:
    alice, bob = make_user(session, "fa@example.com"), make_user(session, "fb@example.com")
    job = make_job(session, alice, "With output", status="completed")
    file = files.add_file(
        session=session,
        file=File(
            id=new_id("file"),
            owner_id=alice,
            job_id=job.id,
            blob_key="outputs/x.wav",
            filename="x.wav",
            content_type="audio/wav",
            size=10,
            format="wav",
        ),
    )
    job.output_file_id = file.id
    session.flush()
    assert files.get_file_by_job(session=session, job_id=job.id, owner_id=alice) is file
    assert files.get_file_by_job(session=session, job_id=job.id, owner_id=bob) is None
    assert files.get_file(session=session, file_id=file.id, owner_id=bob) is None


def test_rate_counters_window_and_quota(session: Session) -> None:
    now = 1_000_020.0
    for expected in (1, 2, 3):
        assert limits.hit(session=session, key="req:u", limit=3, window_s=60, now=now) == expected
    with pytest.raises(RateLimited) as limited:
        limits.hit(session=session, key="req:u", limit=3, window_s=60, now=now + 1)
    assert 1 <= limited.value.retry_after <= 60
    assert limits.hit(session=session, key="req:u", limit=3, window_s=60, now=now + 60) == 1
    assert limits.hit(session=session, key="req:other", limit=3, window_s=60, now=now) == 1
    limits.hit_daily(session=session, key="synth:u", limit=1, now=now)
    with pytest.raises(QuotaExceeded):
        limits.hit_daily(session=session, key="synth:u", limit=1, now=now + 10)
