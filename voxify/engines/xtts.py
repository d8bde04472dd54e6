"""XTTS v2 (coqui-tts): zero-shot cloning from conditioning latents, 17 languages.

Loaded from a local model directory (model.pth, config.json, vocab.json, speakers_xtts.pth);
nothing is ever downloaded. Audio comes in as arrays, never through torchaudio's file loading,
so FFmpeg is not needed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from TTS.tts.configs.xtts_config import XttsConfig
from TTS.tts.models.xtts import Xtts

from voxify.audio.effects import resample
from voxify.engines.base import Audio
from voxify.engines.languages import XTTS_LANGUAGES
from voxify.text import split_chunks

SAMPLE_RATE = 24000
CONDITIONING_RATE = 22050  # what XTTS's GPT conditioning encoder expects
CLIP_GAP_S = 0.25  # silence between a clone's samples when they are conditioned on together


def xtts_language(language: str) -> str:
    """The XTTS code for a language tag (``en-GB`` -> ``en``, ``zh-CN`` -> ``zh-cn``)."""
    tag = language.lower()
    if tag in XTTS_LANGUAGES:
        return tag
    primary = tag.split("-")[0]
    if primary == "zh":
        return "zh-cn"
    if primary in XTTS_LANGUAGES:
        return primary
    raise ValueError(f"XTTS does not speak '{language}'")


class XttsEngine:
    """One loaded XTTS v2 model; call from one thread at a time."""

    name = "xtts"
    sample_rate = SAMPLE_RATE
    languages = tuple(XTTS_LANGUAGES.values())

    def __init__(self, model_dir: Path, *, max_new_tokens: int | None = None,
                 device: str | None = None) -> None:
        config = XttsConfig()
        config.load_json(str(model_dir / "config.json"))
        model = Xtts(config)
        model.load_checkpoint(config, checkpoint_dir=str(model_dir), use_deepspeed=False,
                              eval=True)
        self._device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._model = model.to(self._device)
        # Randomly initialised test checkpoints never emit a stop token: they are capped.
        self._generate = ({} if max_new_tokens is None
                          else {"max_new_tokens": max_new_tokens, "min_new_tokens": max_new_tokens})

    @property
    def speakers(self) -> list[str]:
        """The built-in studio speakers of speakers_xtts.pth."""
        return list(self._model.speaker_manager.speaker_names)

    def conditioning_latents(self, audios: Sequence[Audio]) -> bytes:
        """The GPT conditioning latent and speaker embedding of a voice, serialised."""
        gap = np.zeros(int(CLIP_GAP_S * CONDITIONING_RATE), dtype=np.float32)
        parts: list[np.ndarray] = []
        for audio in audios:
            parts += [resample(audio.samples, audio.sample_rate, CONDITIONING_RATE), gap]
        clip = torch.from_numpy(np.concatenate(parts)).float()[None, :].to(self._device)
        with torch.inference_mode():
            latent = self._model.get_gpt_cond_latents(clip, CONDITIONING_RATE, length=30,
                                                      chunk_length=6)
            embedding = self._model.get_speaker_embedding(clip, CONDITIONING_RATE)
        buffer = io.BytesIO()
        torch.save({"gpt_cond_latent": latent.cpu(), "speaker_embedding": embedding.cpu()},
                   buffer)
        return buffer.getvalue()

    def synthesize(self, text: str, *, language: str, latents: bytes | None = None,
                   speaker: str | None = None, speed: float = 1.0,
                   seed: int | None = None) -> Audio:
        """Speak ``text`` in a cloned voice (``latents``) or a studio ``speaker``."""
        code = xtts_language(language)
        latent, embedding = self._voice(latents, speaker)
        limit = self._model.tokenizer.char_limits.get(code.split("-")[0], 250)
        if seed is not None:
            torch.manual_seed(seed)
        pieces: list[np.ndarray] = []
        with torch.inference_mode():
            for sentence in split_chunks(text, max_chars=limit):
                out = self._model.inference(sentence, code, latent, embedding, speed=speed,
                                            enable_text_splitting=False, **self._generate)
                pieces.append(np.asarray(out["wav"], dtype=np.float32))
        samples = np.clip(np.concatenate(pieces), -1.0, 1.0) if pieces else np.zeros(0)
        return Audio(samples.astype(np.float32), SAMPLE_RATE)

    def _voice(self, latents: bytes | None,
               speaker: str | None) -> tuple[torch.Tensor, torch.Tensor]:
        if latents is not None:
            stored = torch.load(io.BytesIO(latents), weights_only=True)
            pair = stored["gpt_cond_latent"], stored["speaker_embedding"]
        elif speaker is not None:
            voice = self._model.speaker_manager.speakers[speaker]
            pair = voice["gpt_cond_latent"], voice["speaker_embedding"]
        else:
            raise ValueError("XTTS needs conditioning latents or a studio speaker")
        return pair[0].to(self._device), pair[1].to(self._device)
