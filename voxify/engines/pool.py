"""The engines one process runs, and which of them renders each request."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from voxify.audio.effects import apply_effects
from voxify.config import Settings
from voxify.engines.base import Audio, Engine
from voxify.engines.render import SynthesisRequest, render, render_batch
from voxify.storage import BlobStore

if TYPE_CHECKING:
    from voxify.engines.xtts import XttsEngine

LATENTS_CACHE = 64  # clones whose XTTS latents a replica keeps in memory


class EngineSet:
    """Piper always; XTTS when configured. A clone speaks with XTTS where it can."""

    def __init__(self, piper: Engine, xtts: XttsEngine | None = None,
                 blobs: BlobStore | None = None) -> None:
        self.piper = piper
        self.xtts = xtts
        self._blobs = blobs
        self._latents: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()  # the latents cache
        # A replica renders from one thread, but computes latents for clone jobs from another.
        self._xtts_lock = threading.Lock()

    def render(self, request: SynthesisRequest) -> Audio:
        """Render one request with the best engine this process has for its voice."""
        if request.latents_key is not None and self.xtts is not None:
            latents = self._load_latents(request.latents_key)
            with self._xtts_lock:
                audio = self.xtts.synthesize(request.text, language=request.language,
                                             latents=latents, speed=request.speed)
            return apply_effects(audio, pitch=request.pitch, volume=request.volume,
                                 sample_rate=request.sample_rate or audio.sample_rate)
        return render(self.piper, request)

    def render_many(self, requests: Sequence[SynthesisRequest]) -> list[Audio]:
        """Several requests: one batched Piper call when all are plain Piper, else in turn."""
        if len(requests) > 1 and all(self._is_plain(r) for r in requests):
            return render_batch(self.piper, requests)
        return [self.render(request) for request in requests]

    def conditioning_latents(self, audios: Sequence[Audio]) -> bytes | None:
        """XTTS latents of a voice, or None where XTTS does not run."""
        if self.xtts is None:
            return None
        with self._xtts_lock:
            return self.xtts.conditioning_latents(audios)

    def _is_plain(self, request: SynthesisRequest) -> bool:
        return request.conversion is None and (request.latents_key is None or self.xtts is None)

    def _load_latents(self, key: str) -> bytes:
        with self._lock:
            if key in self._latents:
                self._latents.move_to_end(key)
                return self._latents[key]
        if self._blobs is None:
            raise RuntimeError("XTTS latents need a blob store")
        data = self._blobs.get(key)
        with self._lock:
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
