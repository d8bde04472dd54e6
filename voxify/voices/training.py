"""The clone_training job: fit a CPU clone's conversion to its samples, by speaker similarity,
and compute XTTS conditioning latents where the synthesizer pool runs XTTS."""

from __future__ import annotations

import numpy as np
from sqlalchemy.orm import Session

from voxify.audio.analysis import decode
from voxify.db.models import Job, VoiceClone, VoiceSample, utcnow
from voxify.db.session import session_scope
from voxify.embeddings.encoder import cosine
from voxify.engines.conversion import convert, fit_conversion
from voxify.errors import InvalidAudio, InvalidState
from voxify.jobs.runner import JobContext
from voxify.ports import Voiceprints
from voxify.speech import Audio, SynthesisRequest
from voxify.status import SampleStatus
from voxify.voices import repository
from voxify.voices.clones import latents_key
from voxify.voices.library import CALIBRATION_TEXTS


def train_clone(context: JobContext, job: Job) -> None:
    """Fit conversion parameters for a clone, index its voice, and mark it ready."""
    runner = context.runner
    voiceprints = runner.voiceprints
    if voiceprints is None:
        raise RuntimeError("this runner has no speaker encoder; it cannot train clones")
    with session_scope(runner.sessions) as session:
        clone = session.get(VoiceClone, job.subject_id)
        if clone is None:
            raise LookupError(f"voice clone {job.subject_id} no longer exists")
        samples = [
            s
            for s in repository.get_samples(
                session=session,
                sample_ids=clone.sample_ids,
                owner_id=clone.user_id,
            )
            if s.status == SampleStatus.READY and s.processed_blob_key
        ]
        session.expunge_all()
    if not samples:
        raise InvalidState("None of the clone's samples is ready any more (deleted?)")
    context.progress(8.0, f"Loading {len(samples)} processed sample(s)")
    targets = [decode(runner.blobs.get(s.processed_blob_key or "")) for s in samples]
    reference = _reference(voiceprints, samples, targets)
    context.progress(12.0, "Rendering calibration speech with the base voice")
    source = [
        runner.synthesis.synthesize(SynthesisRequest(text=text)) for text in CALIBRATION_TEXTS
    ]

    def score(audio: Audio) -> float:
        return cosine(voiceprints.embed(audio), reference)

    def fitted(fraction: float) -> None:
        context.progress(20.0 + 70.0 * fraction, "Fitting the voice conversion to the samples")

    try:
        fit = fit_conversion(source, targets, score, progress=fitted)
    except ValueError as exc:  # too little voiced speech, too low a sample rate
        raise InvalidAudio(f"The samples cannot be fitted: {exc}") from exc
    converted = convert(Audio.join(source), fit.params)
    latents = None
    if runner.catalogue.xtts_available:
        context.progress(92.0, "Computing XTTS conditioning latents")
        latents = runner.synthesis.conditioning_latents(targets)
    key = latents_key(clone.user_id, clone.id)
    try:
        if latents is not None:
            runner.blobs.put(key, latents, "application/octet-stream")
        voiceprints.store(
            clone.id,
            voiceprints.embed(converted),
            {
                "owner_id": clone.user_id,
                "kind": "clone",
                "voice_model_id": clone.id,
                "name": clone.name,
                "language": clone.language,
            },
        )

        def apply(session: Session) -> None:
            row = session.get(VoiceClone, clone.id)
            if row is None:  # deleted meanwhile: the completion must not land
                raise LookupError(f"voice clone {clone.id} was deleted")
            row.conversion = fit.params.to_dict()
            row.similarity = fit.similarity
            row.baseline_similarity = fit.baseline_similarity
            row.engine = "piper" if latents is None else "xtts"
            row.latents_blob_key = None if latents is None else key
            row.trained_at = utcnow()

        context.complete(
            f"Voice clone ready: speaker similarity {fit.baseline_similarity:.2f} -> "
            f"{fit.similarity:.2f}",
            apply,
        )
    except BaseException:
        voiceprints.delete([clone.id])
        runner.blobs.delete(key)
        raise


def _reference(
    voiceprints: Voiceprints, samples: list[VoiceSample], audios: list[Audio]
) -> np.ndarray:
    """The samples' speaker: their stored embeddings, weighted by speech length."""
    vectors, weights = [], []
    for sample, audio in zip(samples, audios, strict=True):
        vector = voiceprints.vector(sample.id)
        vectors.append(voiceprints.embed(audio) if vector is None else vector)
        weights.append(sample.processed_duration or audio.duration)
    mean = np.average(np.stack(vectors), axis=0, weights=weights)
    return np.asarray(mean / np.linalg.norm(mean), dtype=np.float32)
