"""The synthesis job handler: speak the text chunk by chunk, store the file, finish the row.

The job was admitted by SynthesisService (rules applied, quota charged) when it was created;
here each chunk is planned by the same ``plan_request`` as every other door.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.orm import Session

from voxify.db.models import Job
from voxify.db.session import session_scope
from voxify.errors import Unavailable
from voxify.files import repository as files_repository
from voxify.files.service import discard, download_path, write_audio
from voxify.jobs.runner import JobContext
from voxify.observability import metrics
from voxify.speech import Audio, SynthesisRequest
from voxify.synthesis.options import Door, Speech, plan_request
from voxify.synthesis.service import record_render
from voxify.text import split_chunks
from voxify.voices.library import DEFAULT_VOICE

CHUNK_PAUSE_S = 0.15
BUSY_RETRY_S = 30.0  # how long a background job waits out an overloaded synthesizer pool
CHUNK_CHARS = 400  # text per engine call: progress moves and cancellation lands between them


def job_speech(job: Job, **changes: Any) -> Speech:
    """What a synthesis job row asks for, with ``changes`` (job column names) applied."""

    def field(name: str) -> Any:
        return changes[name] if name in changes else getattr(job, name)

    seed = (field("config") or {}).get("seed")
    return Speech(
        text=field("text_content") or "",
        voice_id=field("voice_model_id"),
        language=field("text_language"),
        output_format=field("output_format"),
        sample_rate=field("sample_rate"),
        speed=field("speed"),
        pitch=field("pitch"),
        volume=field("volume"),
        seed=seed if isinstance(seed, int) else None,
    )


def run_synthesis(context: JobContext, job: Job) -> None:
    """Synthesize a job's text and store the audio as the job's output file."""
    runner = context.runner
    speech = job_speech(job)
    with session_scope(runner.sessions) as session:
        voice = runner.catalogue.find(
            session=session,
            owner_id=job.user_id,
            voice_id=speech.voice_id or DEFAULT_VOICE.voice_model_id,
        )
    chunks = split_chunks(speech.text, max_chars=CHUNK_CHARS)
    context.progress(10.0, "Text preprocessing completed")
    pieces: list[Audio] = []
    rendering_s = 0.0
    for index, chunk in enumerate(chunks):
        request = plan_request(voice, speech, text=chunk, seed=_seed(speech, index))
        started = time.perf_counter()
        pieces.append(_with_retry(context, request))
        rendering_s += time.perf_counter() - started
        context.progress(
            10.0 + 80.0 * (index + 1) / len(chunks),
            f"Audio synthesis in progress ({index + 1}/{len(chunks)} chunks)",
        )
    audio = Audio.join(pieces, pause_s=CHUNK_PAUSE_S)
    record_render(voice.engine, Door.JOB, audio, rendering_s)
    file, _ = write_audio(
        blobs=runner.blobs,
        owner_id=job.user_id,
        audio=audio,
        fmt=speech.output_format,
        voice_id=voice.voice_model_id,
        engine=voice.engine,
    )
    file.job_id = job.id

    def store(session: Session) -> None:
        files_repository.add_file(session=session, file=file)

    try:
        context.complete(
            "Synthesis completed",
            store,
            output_file_id=file.id,
            output_file_path=download_path(file.id),
            duration=file.duration,
        )
    except BaseException:
        discard(blobs=runner.blobs, file=file)
        raise


def _seed(speech: Speech, chunk_index: int) -> int | None:
    """The job's XTTS seed, varied per chunk so chunks do not repeat the same noise."""
    return None if speech.seed is None else (speech.seed + chunk_index) % 2**31


def _with_retry(context: JobContext, request: SynthesisRequest) -> Audio:
    deadline = time.monotonic() + BUSY_RETRY_S
    delay = 0.25
    while True:
        try:
            return context.runner.synthesis.synthesize(request)
        except Unavailable:
            metrics.POOL_SHEDS.inc(pool=request.engine)
            if time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 4.0)
