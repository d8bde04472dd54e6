"""The synthesis job handler: speak the text chunk by chunk, store the file, finish the row."""

from __future__ import annotations

import time

import numpy as np
from sqlalchemy.orm import Session

from voxify.db.models import Job
from voxify.db.session import session_scope
from voxify.engines.base import Audio
from voxify.engines.render import SynthesisRequest
from voxify.errors import Unavailable
from voxify.files import repository as files_repository
from voxify.files.service import discard, download_path, write_audio
from voxify.jobs.runner import JobContext
from voxify.text import split_chunks
from voxify.voices.resolve import find_voice, synthesis_request

CHUNK_PAUSE_S = 0.15
BUSY_RETRY_S = 30.0  # how long a background job waits out an overloaded synthesizer pool


def run_synthesis(context: JobContext, job: Job) -> None:
    """Synthesize a job's text and store the audio as the job's output file."""
    runner = context.runner
    with session_scope(runner.sessions) as session:
        voice = find_voice(session=session, owner_id=job.user_id,
                           voice_id=job.voice_model_id or "default_voice_001",
                           xtts_speakers=runner.xtts_speakers() if runner.xtts_speakers else None)
    chunks = split_chunks(job.text_content or "", max_chars=runner.chunk_chars)
    context.progress(10.0, "Text preprocessing completed")
    pieces: list[Audio] = []
    for index, chunk in enumerate(chunks):
        request = synthesis_request(
            voice, text=chunk, language=job.text_language, speed=job.speed, pitch=job.pitch,
            volume=job.volume, sample_rate=job.sample_rate, seed=_seed(job, index),
        )
        pieces.append(_with_retry(context, request))
        context.progress(10.0 + 80.0 * (index + 1) / len(chunks),
                         f"Audio synthesis in progress ({index + 1}/{len(chunks)} chunks)")
    audio = _join(pieces)
    file = write_audio(blobs=runner.blobs, owner_id=job.user_id, audio=audio,
                       fmt=job.output_format)
    file.job_id = job.id

    def store(session: Session) -> None:
        files_repository.add_file(session=session, file=file)

    try:
        context.complete("Synthesis completed", store, output_file_id=file.id,
                         output_file_path=download_path(file.id), duration=file.duration)
    except BaseException:
        discard(blobs=runner.blobs, file=file)
        raise


def _seed(job: Job, chunk_index: int) -> int | None:
    """The job's XTTS seed (``config.seed``), varied per chunk so chunks do not repeat noise."""
    seed = (job.config or {}).get("seed")
    return None if not isinstance(seed, int) else (seed + chunk_index) % 2**31


def _with_retry(context: JobContext, request: SynthesisRequest) -> Audio:
    deadline = time.monotonic() + BUSY_RETRY_S
    delay = 0.25
    while True:
        try:
            return context.runner.synthesize(request)
        except Unavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 4.0)


def _join(pieces: list[Audio]) -> Audio:
    rate = pieces[0].sample_rate
    pause = np.zeros(int(CHUNK_PAUSE_S * rate), dtype=np.float32)
    parts: list[np.ndarray] = []
    for index, piece in enumerate(pieces):
        if index:
            parts.append(pause)
        parts.append(piece.samples.astype(np.float32, copy=False))
    return Audio(samples=np.concatenate(parts), sample_rate=rate)
