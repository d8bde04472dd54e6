"""The engines one process runs, and how each request is rendered: whole, batched or streamed."""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, nullcontext
from typing import TYPE_CHECKING

import numpy as np

from voxify.config import Settings
from voxify.engines.base import Engine
from voxify.engines.cores import CoreScheduler
from voxify.engines.render import finish, render_batch
from voxify.engines.schedule import DeadlineLock
from voxify.errors import EngineUnavailable
from voxify.speech import Audio, Chunk, SynthesisRequest
from voxify.storage import BlobStore
from voxify.text import split_chunks, stream_pieces

if TYPE_CHECKING:
    from voxify.engines.kokoro import KokoroEngine
    from voxify.engines.xtts import XttsEngine

LATENTS_CACHE = 64  # clones whose XTTS latents a replica keeps in memory
# Silence after a streamed piece, by how it ends (Piper's own pause between sentences is 0.12 s).
PIECE_PAUSE_S = {"sentence": 0.12, "clause": 0.06, "word": 0.0}


Speak = Callable[[str, float], Audio]  # a piece's text and deadline -> its speech


def _style(request: SynthesisRequest) -> tuple[tuple[str, float], ...]:
    if not request.style:
        raise ValueError("a Kokoro request names its voice packs (style)")
    return request.style


class EngineSet:
    """Piper, Kokoro and/or XTTS in one process; each request names the engine that renders it.

    Calls are granted earliest deadline first: streams interleave by need (Piper by piece,
    XTTS by ~20-token chunk). XTTS runs one call at a time (its GPT prefix is per-process
    state). Piper does too, unless ``piper_narrow`` gives it one-thread twins of ``piper``
    (one per core): then a lone render takes ``piper`` and every core, and overlapping renders
    take one twin and one core each (CoreScheduler). Kokoro runs one call at a time, with
    every core. Effects run outside the engine locks.
    """

    def __init__(
        self,
        piper: Engine | None,
        xtts: XttsEngine | None = None,
        blobs: BlobStore | None = None,
        piper_narrow: Sequence[Engine] = (),
        kokoro: KokoroEngine | None = None,
    ) -> None:
        self.piper = piper
        self.xtts = xtts
        self.kokoro = kokoro
        self._kokoro_lock = DeadlineLock()
        self._blobs = blobs
        self._latents: OrderedDict[str, bytes] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._piper_cores: CoreScheduler[Engine] | None = None
        if piper is not None:
            self._piper_cores = CoreScheduler(piper, list(piper_narrow) or [piper])
        self._xtts_lock = DeadlineLock()
        self.stats: Counter[str] = Counter()  # streams started/finished/stopped, pieces rendered

    def replace_piper(self, piper: Engine, narrow: Sequence[Engine] = ()) -> None:
        """Render with new Piper sessions from now on (renders in flight finish on the old)."""
        self.piper = piper
        self._piper_cores = CoreScheduler(piper, list(narrow) or [piper])

    def render(self, request: SynthesisRequest) -> Audio:
        """Render one request with the engine it names."""
        if request.engine == "xtts":
            xtts = self._need_xtts()
            latents = self._voice_latents(request)
            with self._xtts_lock.hold(time.monotonic()):
                audio = xtts.synthesize(
                    request.text,
                    language=request.language,
                    latents=latents,
                    speaker=request.speaker,
                    speed=request.speed,
                    seed=request.seed,
                )
            return finish(audio, request)
        if request.engine == "kokoro":
            kokoro = self._need_kokoro()
            with self._kokoro_lock.hold(time.monotonic()):
                audio = kokoro.synthesize(
                    request.text,
                    voice=_style(request),
                    language=request.language,
                    speed=request.speed,
                )
            return finish(audio, request)
        with self._need_piper().hold(time.monotonic()) as piper:
            audio = piper.synthesize(
                request.text, speed=request.speed, timestamps=request.timestamps
            )
        return finish(audio, request)

    def render_many(self, requests: Sequence[SynthesisRequest]) -> list[Audio]:
        """Several requests: one batched engine call where they allow it, else in turn."""
        if any(r.timestamps for r in requests):  # timings come from one sentence at a time
            return [self.render(request) for request in requests]
        if len(requests) > 1 and all(r.engine == "piper" for r in requests):
            with self._need_piper().hold(time.monotonic()) as piper:
                return render_batch(piper, requests)
        if len(requests) > 1 and all(r.engine == "xtts" for r in requests):
            return self._render_xtts_batch(requests)
        return [self.render(request) for request in requests]

    def stream(self, request: SynthesisRequest) -> Iterator[Chunk]:
        """Speech as it is produced; closing the iterator stops the work after the current piece.

        Piper and Kokoro render the opening clause alone and then sentence by sentence; XTTS
        streams its GPT tokens through the decoder. Bad input raises on the first ``next``.
        """
        self.stats["streams_started"] += 1
        if request.engine == "xtts":
            chunks = self._xtts_stream(request)
        elif request.engine == "kokoro":
            chunks = self._piece_stream(request, self._kokoro_piece(request))
        else:
            chunks = self._piece_stream(request, self._piper_piece(request))
        finished = False
        try:
            for chunk in chunks:
                self.stats["pieces_rendered"] += 1
                yield chunk
            finished = True
        finally:
            self.stats["streams_finished" if finished else "streams_stopped"] += 1

    def conditioning_latents(self, audios: Sequence[Audio]) -> bytes | None:
        """XTTS latents of a voice, or None where XTTS does not run."""
        if self.xtts is None:
            return None
        with self._xtts_lock.hold(time.monotonic()):
            return self.xtts.conditioning_latents(audios)

    def xtts_speakers(self) -> list[str] | None:
        """The studio speakers of the XTTS model, or None where XTTS does not run."""
        return None if self.xtts is None else self.xtts.speakers

    def kokoro_voices(self) -> list[str] | None:
        """The Kokoro voice packs, or None where Kokoro does not run."""
        return None if self.kokoro is None else list(self.kokoro.voices)

    def kokoro_voiceprints(self) -> dict[str, np.ndarray] | None:
        """The stock Kokoro voices' speaker embeddings (`voxify setup`), or None."""
        return None if self.kokoro is None else self.kokoro.files.voiceprints()

    def _piper_piece(self, request: SynthesisRequest) -> Speak:
        cores = self._need_piper()

        def speak(text: str, deadline: float) -> Audio:
            with cores.hold(deadline) as piper:
                return piper.synthesize(text, speed=request.speed, timestamps=request.timestamps)

        return speak

    def _kokoro_piece(self, request: SynthesisRequest) -> Speak:
        kokoro, voice = self._need_kokoro(), _style(request)

        def speak(text: str, deadline: float) -> Audio:
            with self._kokoro_lock.hold(deadline):
                return kokoro.synthesize(
                    text, voice=voice, language=request.language, speed=request.speed
                )

        return speak

    def _piece_stream(self, request: SynthesisRequest, speak: Speak) -> Iterator[Chunk]:
        pieces = stream_pieces(request.text)
        total = sum(len(piece.text) for piece in pieces)
        done = 0
        deadline = time.monotonic()  # the first piece is due now, each next one when the
        for index, piece in enumerate(pieces):  # listener reaches the end of what was sent
            audio = finish(speak(piece.text, deadline), request)
            pause = 0.0 if index == len(pieces) - 1 else PIECE_PAUSE_S[piece.end]
            samples = np.concatenate(
                [audio.samples, np.zeros(round(pause * audio.sample_rate), dtype=np.float32)]
            )
            done += len(piece.text)
            deadline = max(deadline, time.monotonic()) + len(samples) / audio.sample_rate
            yield Chunk(Audio(samples, audio.sample_rate, audio.words), done / total)

    def _xtts_stream(self, request: SynthesisRequest) -> Iterator[Chunk]:
        xtts = self._need_xtts()
        latents = self._voice_latents(request)
        sentences = split_chunks(request.text, max_chars=xtts.char_limit(request.language))
        if request.seed is not None:
            # Seeded once, as a whole render is; other calls between its chunks would draw
            # from the same random generator, so a seeded stream keeps the model throughout.
            with self._xtts_lock.hold(time.monotonic()):
                yield from self._xtts_chunks(xtts, request, sentences, latents, None)
        else:
            yield from self._xtts_chunks(xtts, request, sentences, latents, self._xtts_lock)

    def _xtts_chunks(
        self,
        xtts: XttsEngine,
        request: SynthesisRequest,
        sentences: Sequence[str],
        latents: bytes | None,
        lock: DeadlineLock | None,
    ) -> Iterator[Chunk]:
        """Sentence by sentence, ~STREAM_TOKENS at a time; with ``lock``, each chunk takes its
        turn on the model earliest deadline first, so other streams and renders go between
        this stream's chunks (the engine puts each stream's GPT prefix back at every step)."""
        deadline = time.monotonic()
        for index, sentence in enumerate(sentences):
            steps = xtts.stream(
                sentence,
                language=request.language,
                latents=latents,
                speaker=request.speaker,
                speed=request.speed,
                seed=request.seed if index == 0 else None,
                opening=index == 0,
            )
            with closing(steps):
                while True:
                    with lock.hold(deadline) if lock is not None else nullcontext():
                        audio = next(steps, None)
                    if audio is None:
                        break
                    audio = finish(audio, request)
                    deadline = max(deadline, time.monotonic()) + audio.duration
                    yield Chunk(audio, (index + 1) / len(sentences))

    def _render_xtts_batch(self, requests: Sequence[SynthesisRequest]) -> list[Audio]:
        from voxify.engines.xtts import XttsItem

        xtts = self._need_xtts()
        items = [
            XttsItem(
                text=r.text,
                language=r.language,
                latents=self._voice_latents(r),
                speaker=r.speaker,
                speed=r.speed,
                seed=r.seed,
            )
            for r in requests
        ]
        with self._xtts_lock.hold(time.monotonic()):
            audios = xtts.synthesize_batch(items)
        return [finish(audio, r) for audio, r in zip(audios, requests, strict=True)]

    def _need_piper(self) -> CoreScheduler[Engine]:
        if self._piper_cores is None:
            raise EngineUnavailable("This synthesizer runs no Piper engine")
        return self._piper_cores

    def _need_kokoro(self) -> KokoroEngine:
        if self.kokoro is None:
            raise EngineUnavailable("This deployment runs no Kokoro engine (run `voxify setup`)")
        return self.kokoro

    def _need_xtts(self) -> XttsEngine:
        if self.xtts is None:
            raise EngineUnavailable()
        return self.xtts

    def _voice_latents(self, request: SynthesisRequest) -> bytes | None:
        return None if request.latents_key is None else self._load_latents(request.latents_key)

    def _load_latents(self, key: str) -> bytes:
        with self._cache_lock:
            if key in self._latents:
                self._latents.move_to_end(key)
                return self._latents[key]
        if self._blobs is None:
            raise RuntimeError("XTTS latents need a blob store")
        data = self._blobs.get(key)
        with self._cache_lock:
            self._latents[key] = data
            while len(self._latents) > LATENTS_CACHE:
                self._latents.popitem(last=False)
        return data


def open_xtts(settings: Settings) -> XttsEngine | None:
    """The XTTS engine named by the settings, or None when no model directory is set."""
    if settings.xtts_model_dir is None:
        return None
    # Imported here: torch and coqui-tts take seconds to import, and only XTTS needs them.
    from voxify.engines.xtts import XttsEngine

    return XttsEngine(settings.xtts_model_dir, max_new_tokens=settings.xtts_max_new_tokens)


def open_kokoro(settings: Settings, *, intra_op_threads: int = 0) -> KokoroEngine | None:
    """Kokoro over the files `voxify setup` assembled, or None where they are absent. It runs
    on CUDA where onnxruntime has it (onnxruntime-gpu), else on the CPU."""
    import onnxruntime as ort

    from voxify.engines.kokoro import KokoroEngine

    providers = [p for p in ("CUDAExecutionProvider",) if p in ort.get_available_providers()]
    return KokoroEngine.open(
        settings.kokoro_dir,
        intra_op_threads=intra_op_threads,
        providers=(*providers, "CPUExecutionProvider"),
    )
