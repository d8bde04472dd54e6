"""Voice clones: create from ready samples (a training job), list, cancel, delete, select."""

from __future__ import annotations

from sqlalchemy.orm import Session

from voxify.config import Settings
from voxify.db.models import Job, User, VoiceClone, utcnow
from voxify.errors import InvalidParameter, InvalidState, NotFound
from voxify.ids import new_id
from voxify.jobs import repository as jobs_repository
from voxify.jobs.service import cancel_running
from voxify.status import CloneStatus, JobStatus, JobType, SampleStatus
from voxify.voices import repository
from voxify.voices.catalogue import VoiceCatalogue
from voxify.voices.kokoro_voices import KOKORO_PREFIX
from voxify.voices.previews import forget_preview
from voxify.voices.schemas import CloneCreate


def latents_key(owner_id: str, clone_id: str) -> str:
    """Where a clone's XTTS conditioning latents live in the blob store."""
    return f"clones/{owner_id}/{clone_id}/xtts_latents.pt"


def create_clone(
    *, session: Session, settings: Settings, user: User, data: CloneCreate
) -> tuple[VoiceClone, Job]:
    """Insert a pending clone and its training job; the caller launches the job after commit."""
    sample_ids = list(dict.fromkeys(data.sample_ids))
    if len(sample_ids) > settings.max_samples_per_clone:
        raise InvalidParameter(
            f"A clone uses at most {settings.max_samples_per_clone} samples",
            details={"max_samples": settings.max_samples_per_clone},
        )
    samples = repository.get_samples(session=session, sample_ids=sample_ids, owner_id=user.id)
    missing = sorted(set(sample_ids) - {s.id for s in samples})
    if missing:
        raise NotFound(f"Voice sample '{missing[0]}' not found", details={"missing": missing})
    not_ready = [s.id for s in samples if s.status != SampleStatus.READY]
    if not_ready:
        raise InvalidState(
            "Every sample must be processed (status 'ready') before cloning",
            details={"not_ready": not_ready},
        )
    search_s = data.config.get("search_s")
    if search_s is not None and not (
        isinstance(search_s, int | float)
        and not isinstance(search_s, bool)
        and 0 <= search_s <= 600
    ):
        raise InvalidParameter(
            "config.search_s (seconds of Kokoro style search) must be a number from 0 to 600",
            details={"param": "config.search_s"},
        )
    engines = data.config.get("engines")
    if engines is not None and not (
        isinstance(engines, list) and engines and set(engines) <= {"piper", "kokoro"}
    ):
        raise InvalidParameter(
            'config.engines must be a non-empty list of "piper" and "kokoro"',
            details={"param": "config.engines"},
        )
    config = {"engines": list(settings.clone_engines), **data.config}  # what the job will try
    clone = VoiceClone(
        id=new_id("vc"),
        user_id=user.id,
        name=data.name,
        description=data.description,
        language=data.language or samples[0].language,
        status=CloneStatus.PENDING,
        sample_ids=sample_ids,
        config=config,
        engine="piper",
    )
    job = Job(
        id=new_id("job"),
        user_id=user.id,
        type=JobType.CLONE_TRAINING,
        status=JobStatus.PENDING,
        progress=0.0,
        message="Voice clone training queued",
        subject_id=clone.id,
        title=f"Voice Model Training - {data.name}"[:255],
        text_language=clone.language,
        config=config,
    )
    clone.job_id = job.id
    repository.add(session=session, row=clone)
    jobs_repository.add_job(session=session, job=job)
    return clone, job


def get_clone(*, session: Session, user: User, clone_id: str) -> VoiceClone:
    """The user's clone, or NotFound (also for other users' clones)."""
    clone = repository.get_clone(session=session, clone_id=clone_id, owner_id=user.id)
    if clone is None:
        raise NotFound(f"Voice clone '{clone_id}' not found")
    return clone


def clone_job(*, session: Session, clone: VoiceClone) -> Job | None:
    """The clone's training job, if it still exists."""
    if clone.job_id is None:
        return None
    return jobs_repository.get_job(session=session, job_id=clone.job_id, owner_id=clone.user_id)


def cancel_clone(*, session: Session, user: User, clone_id: str) -> VoiceClone:
    """Stop a pending or training clone; its job ends cancelled and so does the clone."""
    clone = get_clone(session=session, user=user, clone_id=clone_id)
    if clone.status not in (CloneStatus.PENDING, CloneStatus.TRAINING) or clone.job_id is None:
        raise InvalidState(
            f"Only pending or training clones can be cancelled; this one is {clone.status}"
        )
    if not cancel_running(session=session, job_id=clone.job_id, reason="Cancelled by the user"):
        raise InvalidState("The training finished before it could be cancelled")
    session.refresh(clone)
    return clone


def delete_clone(*, session: Session, user: User, clone_id: str) -> list[str]:
    """Delete a clone (stopping its training); returns blob keys to remove after commit."""
    clone = get_clone(session=session, user=user, clone_id=clone_id)
    if clone.job_id:
        cancel_running(session=session, job_id=clone.job_id, reason="Voice clone deleted")
    row = session.get(User, user.id)
    if row is not None and row.selected_voice_id == clone.id:
        row.selected_voice_id = None
    repository.delete(session=session, row=clone)
    return [latents_key(user.id, clone.id), *forget_preview(session=session, voice_id=clone.id)]


def save_blend(
    *,
    session: Session,
    catalogue: VoiceCatalogue,
    user: User,
    name: str,
    blend: str,
    description: str | None,
) -> VoiceClone:
    """A Kokoro blend kept as the user's custom voice (ready at once: nothing to train)."""
    voice = catalogue.preset(blend.replace(KOKORO_PREFIX, ""))
    if voice.engine != "kokoro" or voice.style is None:
        raise InvalidParameter(f"'{blend}' is not a Kokoro voice or blend of Kokoro voices")
    clone = VoiceClone(
        id=new_id("vc"),
        user_id=user.id,
        name=name,
        description=description or f"A blend of Kokoro voices: {voice.voice_model_id}",
        language=voice.language,
        status=CloneStatus.READY,
        engine="kokoro",
        style={"blend": [[pack, weight] for pack, weight in voice.style]},
        trained_at=utcnow(),
    )
    repository.add(session=session, row=clone)
    return clone


def select_clone(*, session: Session, user: User, clone_id: str) -> VoiceClone:
    """Make a ready clone the user's voice when a request names none."""
    clone = get_clone(session=session, user=user, clone_id=clone_id)
    if clone.status != CloneStatus.READY:
        raise InvalidState(f"Only a ready clone can be selected; this one is {clone.status}")
    row = session.get(User, user.id)
    if row is None:
        raise NotFound("User not found")
    row.selected_voice_id = clone.id
    session.flush()
    return clone
