"""Sample processing and clone training jobs: statuses follow the job row; nothing half-written."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from tests.unit.conftest import register_and_login
from tests.unit.test_voice_api import (
    MALE,
    _services,
    mark_ready,
    nothing_stored,
    process,
    upload,
    wait_for,
)
from voxify.api.context import Services
from voxify.db.models import Job, User, VoiceClone, VoiceSample
from voxify.db.session import session_scope
from voxify.jobs import repository as jobs
from voxify.jobs.handlers import build_runner
from voxify.jobs.recovery import recover_jobs
from voxify.speech import Audio
from voxify.voices.samples import delete_sample


def test_sample_and_clone_statuses_follow_their_jobs(make_client: Any) -> None:
    client = make_client(run_jobs=False)
    headers = register_and_login(client, "mirror@example.com")
    sample_id = upload(client, headers, MALE).json()["data"]["sample_id"]
    job_id = client.post(f"/api/v1/voice/samples/{sample_id}/process", headers=headers).json()[
        "data"
    ]["job_id"]
    services = _services(client)

    def sample_state() -> tuple[str, str | None]:
        with session_scope(services.sessions) as session:
            row = session.get(VoiceSample, sample_id)
            assert row is not None
            return row.status, row.error_message

    assert sample_state() == ("processing", None)
    with session_scope(services.sessions) as session:
        jobs.transition(
            session=session,
            job_id=job_id,
            from_statuses=("pending",),
            status="processing",
            runner_id="node:x",
        )
        jobs.transition(
            session=session,
            job_id=job_id,
            from_statuses=("processing",),
            status="failed",
            error_message="Could not decode the wav file",
        )
    assert sample_state() == ("failed", "Could not decode the wav file")
    shown = client.get(f"/api/v1/voice/samples/{sample_id}", headers=headers).json()["data"]
    assert shown["status"] == "failed" and "decode" in shown["error_message"]

    # A new processing run replaces the failed one; cancelling it puts the sample back.
    retry = client.post(f"/api/v1/voice/samples/{sample_id}/process", headers=headers)
    assert retry.json()["data"]["job_id"] != job_id
    client.post(f"/api/v1/jobs/{retry.json()['data']['job_id']}/cancel", headers=headers)
    assert sample_state() == ("uploaded", None)
    # The old job's later transitions no longer speak for the sample.
    with session_scope(services.sessions) as session:
        jobs.transition(
            session=session, job_id=job_id, from_statuses=("failed",), status="completed"
        )
    assert sample_state() == ("uploaded", None)


def test_interrupted_training_is_requeued_and_the_clone_shows_it(make_client: Any) -> None:
    client = make_client(run_jobs=False)
    headers = register_and_login(client, "requeue@example.com")
    sample_id = upload(client, headers, MALE).json()["data"]["sample_id"]
    services = _services(client)
    mark_ready(services, sample_id)
    clone = client.post(
        "/api/v1/voice/clones",
        headers=headers,
        json={"sample_ids": [sample_id], "name": "Requeued"},
    ).json()["data"]
    with session_scope(services.sessions) as session:
        jobs.transition(
            session=session,
            job_id=clone["job_id"],
            from_statuses=("pending",),
            status="processing",
            runner_id="dead-node:task",
            attempts=1,
        )
    assert (
        client.get(f"/api/v1/voice/clones/{clone['clone_id']}", headers=headers).json()["data"][
            "status"
        ]
        == "training"
    )
    with session_scope(services.sessions) as session:
        requeued = recover_jobs(
            session=session, stale_after_s=0.0, max_attempts=1, is_runner_alive=lambda runner: False
        )
    assert requeued == []  # attempts exhausted: failed, with the reason
    shown = client.get(f"/api/v1/voice/clones/{clone['clone_id']}", headers=headers).json()
    assert shown["data"]["status"] == "failed"
    assert "Interrupted" in shown["data"]["error_message"]


class _DeletingVoiceprints:
    """Deletes the sample (as its owner would, from another request) while it is embedded."""

    def __init__(self, services: Services, user: User, sample_id: str) -> None:
        self._inner = services.voiceprints
        self._services = services
        self._user = user
        self._sample_id = sample_id

    def embed(self, audio: Audio) -> np.ndarray:
        with session_scope(self._services.sessions) as session:
            keys = delete_sample(session=session, user=self._user, sample_id=self._sample_id)
        for key in keys:
            self._services.blobs.delete(key)
        self._inner.delete([self._sample_id])
        return self._inner.embed(audio)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_sample_deleted_during_processing_leaves_nothing(make_client: Any) -> None:
    client = make_client(run_jobs=False)
    headers = register_and_login(client, "racer@example.com")
    sample_id = upload(client, headers, MALE).json()["data"]["sample_id"]
    job_id = client.post(f"/api/v1/voice/samples/{sample_id}/process", headers=headers).json()[
        "data"
    ]["job_id"]
    services = _services(client)
    with session_scope(services.sessions) as session:
        user = session.query(User).one()
        session.expunge(user)
    runner = build_runner(
        sessions=services.sessions,
        blobs=services.blobs,
        synthesis=services.synthesis,
        catalogue=services.catalogue,
        voiceprints=_DeletingVoiceprints(services, user, sample_id),
    )
    assert runner.run(job_id, "node:a") == "cancelled"
    nothing_stored(services)
    with session_scope(services.sessions) as session:
        job = session.get(Job, job_id)
        assert job is not None and job.message == "Sample deleted"


def test_unreadable_upload_fails_processing_with_the_reason(client: TestClient) -> None:
    headers = register_and_login(client, "broken@example.com")
    sample_id = upload(client, headers, MALE).json()["data"]["sample_id"]
    services = _services(client)
    with session_scope(services.sessions) as session:
        row = session.get(VoiceSample, sample_id)
        assert row is not None
        services.blobs.put(row.upload_blob_key, b"RIFF\x00\x00\x00\x00WAVEgarbage", "audio/wav")
    failed = process(client, headers, sample_id)
    assert failed["status"] == "failed" and "decode" in failed["error_message"]
    assert failed["quality_score"] is None
    job = client.get(f"/api/v1/jobs/{failed['job_id']}", headers=headers).json()["data"]
    assert job["status"] == "failed" and job["type"] == "sample_processing"
    assert services.voiceprints.vector(sample_id) is None


def test_clone_of_a_deleted_sample_fails_with_the_reason(client: TestClient) -> None:
    headers = register_and_login(client, "orphan@example.com")
    sample_id = upload(client, headers, MALE).json()["data"]["sample_id"]
    assert process(client, headers, sample_id)["status"] == "ready"
    services = _services(client)
    with session_scope(services.sessions) as session:  # deleted between create and run
        clone = VoiceClone(
            id="vc_0123456789abcdef0123",
            user_id=session.query(User).one().id,
            name="Orphan",
            sample_ids=["vs_00000000000000000000"],
        )
        session.add(clone)
    with session_scope(services.sessions) as session:
        job = Job(
            id="job_0123456789abcdef0123",
            user_id=clone.user_id,
            type="clone_training",
            subject_id=clone.id,
        )
        session.add(job)
        row = session.get(VoiceClone, clone.id)
        assert row is not None
        row.job_id = job.id
    services.launcher.launch("job_0123456789abcdef0123")
    failed = wait_for(
        client, headers, f"/api/v1/voice/clones/{clone.id}", ("failed", "ready"), timeout=60
    )
    assert failed["status"] == "failed" and "samples" in failed["error_message"]
