"""The sample_processing job: decode, clean, validate, embed, and store a voice sample."""

from __future__ import annotations

import math

from sqlalchemy.orm import Session

from voxify.audio.encode import encode
from voxify.audio.ingest import decode_upload, prepare_sample
from voxify.db.models import Job, VoiceSample, utcnow
from voxify.db.session import session_scope
from voxify.jobs.runner import JobContext
from voxify.ports import Voiceprints
from voxify.voices.samples import processed_key

PROCESSED_RATE = 22050  # Piper's rate: the conversion fits against clips at the same rate


def process_sample(context: JobContext, job: Job) -> None:
    """Turn an uploaded sample into a processed clip with a speaker embedding in the index."""
    runner = context.runner
    voiceprints = _require(runner.voiceprints)
    with session_scope(runner.sessions) as session:
        sample = session.get(VoiceSample, job.subject_id)
        if sample is None:
            raise LookupError(f"voice sample {job.subject_id} no longer exists")
        session.expunge(sample)
    context.progress(10.0, "Decoding the upload")
    audio = decode_upload(runner.blobs.get(sample.upload_blob_key))
    context.progress(25.0, "Resampling, trimming silence and normalising loudness")
    # The duration limits were applied when the sample was uploaded, under the settings then.
    prepared = prepare_sample(
        audio, target_rate=PROCESSED_RATE, min_speech_s=0.0, max_speech_s=math.inf
    )
    context.progress(50.0, "Computing the speaker embedding")
    vector = voiceprints.embed(prepared.audio)
    key = processed_key(sample.user_id, sample.id)
    runner.blobs.put(key, encode(prepared.audio, "wav"), "audio/wav")
    try:
        voiceprints.store(
            sample.id,
            vector,
            {
                "owner_id": sample.user_id,
                "kind": "sample",
                "sample_id": sample.id,
                "name": sample.name,
                "language": sample.language,
            },
        )
        context.progress(90.0, "Speaker embedding indexed")

        def apply(session: Session) -> None:
            row = session.get(VoiceSample, sample.id)
            if row is None:  # deleted meanwhile: the completion must not land
                raise LookupError(f"voice sample {sample.id} was deleted")
            row.processed_blob_key = key
            row.processed_duration = round(prepared.audio.duration, 3)
            row.quality_score = prepared.report.quality_score
            row.report = prepared.to_dict()
            row.processed_at = utcnow()

        context.complete("Sample processed", apply)
    except BaseException:
        # Nothing half-written: a sample that did not become ready keeps no clip or vector.
        runner.blobs.delete(key)
        voiceprints.delete([sample.id])
        raise


def _require(voiceprints: Voiceprints | None) -> Voiceprints:
    if voiceprints is None:
        raise RuntimeError("this runner has no speaker encoder; it cannot process samples")
    return voiceprints
