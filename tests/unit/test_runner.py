"""The job runner: claims once, reports progress, cancels between chunks, never half-writes."""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator, Callable, Sequence
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from voxify.auth import repository as users
from voxify.config import Settings
from voxify.db.migrate import upgrade
from voxify.db.models import File, Job
from voxify.db.session import make_engine, make_session_factory, session_scope
from voxify.engines.piper import PiperEngine
from voxify.engines.render import render
from voxify.ids import new_id
from voxify.jobs import repository as jobs
from voxify.jobs.handlers import build_runner
from voxify.speech import Audio, Chunk, SynthesisRequest
from voxify.storage import open_blob_store
from voxify.text import text_hash
from voxify.voices.catalogue import VoiceCatalogue

LONG_TEXT = " ".join(f"This is sentence number {i} of a rather long job." for i in range(16))


@pytest.fixture
def env(make_settings: Callable[..., Settings]) -> tuple[sessionmaker[Session], Path, str]:
    settings = make_settings()
    upgrade(settings.database_url)
    sessions = make_session_factory(make_engine(settings.database_url))
    with session_scope(sessions) as session:
        user_id = users.create_user(
            session=session,
            email="run@example.com",
            password_hash="x",
            first_name="A",
            last_name="B",
        ).id
    return sessions, settings.data_dir / "blobs", user_id


def add_job(sessions: sessionmaker[Session], user_id: str, text: str) -> str:
    with session_scope(sessions) as session:
        job = jobs.add_job(
            session=session,
            job=Job(
                id=new_id("job"),
                user_id=user_id,
                voice_model_id="default_voice_001",
                text_content=text,
                text_hash=text_hash(text),
                text_length=len(text),
                word_count=len(text.split()),
            ),
        )
        return job.id


def load(sessions: sessionmaker[Session], job_id: str) -> Job:
    with session_scope(sessions) as session:
        job = jobs.get_job_any_owner(session=session, job_id=job_id)
        assert job is not None
        return job


class CallSynthesis:
    """The Synthesis port over a plain function: the test's spy or fault."""

    def __init__(self, synthesize: Callable[[SynthesisRequest], Audio]) -> None:
        self.synthesize = synthesize

    async def render(self, request: SynthesisRequest) -> Audio:
        return self.synthesize(request)

    async def stream(self, request: SynthesisRequest) -> AsyncGenerator[Chunk, None]:
        yield Chunk(self.synthesize(request), 1.0)  # the whole speech as one piece

    def conditioning_latents(self, audios: Sequence[Audio]) -> bytes | None:
        return None

    async def check(self) -> str:
        return "ok"


def blob_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_runs_long_job_in_chunks_once(env: tuple, piper: PiperEngine) -> None:
    sessions, blob_root, user_id = env
    calls: list[str] = []

    def synthesize(request: SynthesisRequest) -> Audio:
        calls.append(request.text)
        return render(piper, request)

    runner = build_runner(
        sessions=sessions,
        blobs=open_blob_store(f"file://{blob_root}"),
        synthesis=CallSynthesis(synthesize),
        catalogue=VoiceCatalogue(),
        voiceprints=None,
        heartbeat_s=0.1,
    )
    job_id = add_job(sessions, user_id, LONG_TEXT)
    assert runner.run(job_id, "node:a") == "completed"
    assert runner.run(job_id, "node:b") == "completed"  # a second launch finds nothing to do
    job = load(sessions, job_id)
    assert job.attempts == 1 and job.runner_id == "node:a" and job.progress == 100.0
    assert len(calls) == len(set(calls)) >= 2  # chunked, each chunk synthesized once
    assert job.duration and job.duration > 12  # 16 sentences of speech
    assert len(blob_files(blob_root)) == 1


def test_cancel_mid_run_stops_and_leaves_no_file(env: tuple, piper: PiperEngine) -> None:
    sessions, blob_root, user_id = env
    job_id = add_job(sessions, user_id, LONG_TEXT)
    started = threading.Event()

    def synthesize(request: SynthesisRequest) -> Audio:
        if not started.is_set():
            started.set()
            with session_scope(sessions) as session:  # the owner cancels meanwhile
                jobs.transition(
                    session=session,
                    job_id=job_id,
                    from_statuses=("processing",),
                    status="cancelled",
                )
        return render(piper, request)

    runner = build_runner(
        sessions=sessions,
        blobs=open_blob_store(f"file://{blob_root}"),
        synthesis=CallSynthesis(synthesize),
        catalogue=VoiceCatalogue(),
        voiceprints=None,
    )
    assert runner.run(job_id, "node:a") == "cancelled"
    assert load(sessions, job_id).output_file_id is None
    assert blob_files(blob_root) == []


def test_engine_failure_fails_the_job_with_reason(env: tuple) -> None:
    sessions, blob_root, user_id = env
    job_id = add_job(sessions, user_id, "Anything at all.")

    def synthesize(request: SynthesisRequest) -> Audio:
        raise ValueError("no speakable text")

    runner = build_runner(
        sessions=sessions,
        blobs=open_blob_store(f"file://{blob_root}"),
        synthesis=CallSynthesis(synthesize),
        catalogue=VoiceCatalogue(),
        voiceprints=None,
    )
    assert runner.run(job_id, "node:a") == "failed"
    job = load(sessions, job_id)
    assert job.status == "failed" and "no speakable text" in (job.error_message or "")
    assert job.completed_at is not None and blob_files(blob_root) == []
    with session_scope(sessions) as session:
        assert session.query(File).count() == 0
