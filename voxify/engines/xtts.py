"""XTTS v2 (coqui-tts): zero-shot cloning from conditioning latents, 17 languages.

Loaded from a local model directory (model.pth, config.json, vocab.json, speakers_xtts.pth);
nothing is ever downloaded. Audio comes in as arrays, never through torchaudio's file loading,
so FFmpeg is not needed.
"""

from __future__ import annotations

import io
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from TTS.tts.configs.xtts_config import XttsConfig
from TTS.tts.models.xtts import Xtts

from voxify.audio.effects import resample
from voxify.engines.languages import XTTS_LANGUAGES
from voxify.engines.xtts_batch import generate_codes, prefix_embedding
from voxify.speech import Audio
from voxify.text import split_chunks

SAMPLE_RATE = 24000
CONDITIONING_RATE = 22050  # what XTTS's GPT conditioning encoder expects
CLIP_GAP_S = 0.25  # silence between a clone's samples when they are conditioned on together
STREAM_TOKENS = 20  # GPT tokens (~0.93 s of speech) decoded per streamed chunk, coqui's default
# GPT tokens (~0.46 s of speech) in the first chunk of a text: its listener hears audio after
# half the work of a whole chunk, as Piper's short opening piece does.
OPENING_TOKENS = 10
OVERLAP = 1024  # samples cross-faded between streamed chunks, coqui's default
# Decoder frames (~10.7 ms each) of left context for a streamed chunk: HiFiGAN's receptive field
# is ~8 frames; from 16 on, the window decodes exactly what the whole sequence does (measured).
DECODER_CONTEXT = 16
# coqui's own inference defaults, used by every path so that batched and single renders agree.
SAMPLING: dict[str, Any] = {
    "do_sample": True,
    "temperature": 0.75,
    "top_k": 50,
    "top_p": 0.85,
    "repetition_penalty": 10.0,
    "length_penalty": 1.0,
    "num_beams": 1,
}
GREEDY: dict[str, Any] = {"do_sample": False, "repetition_penalty": 10.0, "num_beams": 1}


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


@dataclass(frozen=True)
class XttsItem:
    """One text of a batch and the voice that speaks it."""

    text: str
    language: str
    latents: bytes | None = None
    speaker: str | None = None
    speed: float = 1.0
    seed: int | None = None


class XttsEngine:
    """One loaded XTTS v2 model; call from one thread at a time."""

    name = "xtts"
    sample_rate = SAMPLE_RATE
    languages = tuple(XTTS_LANGUAGES.values())

    def __init__(
        self,
        model_dir: Path,
        *,
        max_new_tokens: int | None = None,
        device: str | None = None,
        greedy: bool = False,
    ) -> None:
        config = XttsConfig()
        config.load_json(str(model_dir / "config.json"))
        model = Xtts(config)
        model.load_checkpoint(config, checkpoint_dir=str(model_dir), use_deepspeed=False, eval=True)
        self._device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._model = model.to(self._device)
        # Randomly initialised test checkpoints never emit a stop token: they are capped.
        capped = (
            {}
            if max_new_tokens is None
            else {"max_new_tokens": max_new_tokens, "min_new_tokens": max_new_tokens}
        )
        self._generate = {**(GREEDY if greedy else SAMPLING), **capped}

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
            latent = self._model.get_gpt_cond_latents(
                clip, CONDITIONING_RATE, length=30, chunk_length=6
            )
            embedding = self._model.get_speaker_embedding(clip, CONDITIONING_RATE)
        buffer = io.BytesIO()
        torch.save({"gpt_cond_latent": latent.cpu(), "speaker_embedding": embedding.cpu()}, buffer)
        return buffer.getvalue()

    def char_limit(self, language: str) -> int:
        """The longest sentence XTTS speaks well in ``language`` (its tokenizer's limits)."""
        return int(self._model.tokenizer.char_limits.get(_primary(language), 250))

    def synthesize(
        self,
        text: str,
        *,
        language: str,
        latents: bytes | None = None,
        speaker: str | None = None,
        speed: float = 1.0,
        seed: int | None = None,
    ) -> Audio:
        """Speak ``text`` in a cloned voice (``latents``) or a studio ``speaker``."""
        code = xtts_language(language)
        latent, embedding = self._voice(latents, speaker)
        if seed is not None:
            torch.manual_seed(seed)
        pieces: list[np.ndarray] = []
        with torch.inference_mode():
            for sentence in split_chunks(text, max_chars=self.char_limit(code)):
                out = self._model.inference(
                    sentence,
                    code,
                    latent,
                    embedding,
                    speed=speed,
                    enable_text_splitting=False,
                    **self._generate,
                )
                pieces.append(np.asarray(out["wav"], dtype=np.float32))
        return _audio(np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32))

    def stream(
        self,
        text: str,
        *,
        language: str,
        latents: bytes | None = None,
        speaker: str | None = None,
        speed: float = 1.0,
        seed: int | None = None,
        opening: bool = False,
    ) -> Generator[Audio, None, None]:
        """One sentence through coqui's streaming GPT generator, STREAM_TOKENS GPT tokens a
        chunk (OPENING_TOKENS in the first, for the ``opening`` sentence of a text).

        Each ``next`` is one step of work on the model and first puts back this stream's GPT
        prefix (the only state the model keeps between steps), so a caller may run other
        streams and renders between steps, one at a time. As coqui's ``inference_stream``
        does, each chunk's start is cross-faded with the previous chunk's held-back tail; unlike
        it, the decoder runs over the new latents and a short left context only, not over every
        latent so far (which made a sentence's decoding quadratic in its length).
        """
        code = xtts_language(language)
        latent, embedding = self._voice(latents, speaker)
        if seed is not None:
            torch.manual_seed(seed)
        gpt = self._model.gpt
        with torch.inference_mode():
            inputs = gpt.compute_embeddings(latent, self._tokens(text, code))
            prefix = gpt.gpt_inference.cached_prefix_emb
            generator = gpt.get_generator(
                fake_inputs=inputs,
                num_return_sequences=1,
                output_attentions=False,
                output_hidden_states=True,
                return_dict_in_generate=True,
                **{**SAMPLING, **self._generate},
            )
        decoded: list[torch.Tensor] = []
        window = _StreamWindow(self._model.hifigan_decoder, embedding, speed)
        finished = False
        wanted = OPENING_TOKENS if opening else STREAM_TOKENS
        while not finished:
            with torch.inference_mode():
                gpt.gpt_inference.store_prefix_emb(prefix)  # another stream may have run
                new = 0
                while new < wanted:
                    step = next(generator, None)
                    if step is None:
                        finished = True
                        break
                    decoded.append(step[1])
                    new += 1
                if not decoded:
                    return
                wav = window.next_chunk(torch.cat(decoded)[None, :], final=finished)
            wanted = STREAM_TOKENS
            yield _audio(wav.float().cpu().numpy())

    def synthesize_batch(self, items: Sequence[XttsItem]) -> list[Audio]:
        """Several texts, their sentences generated together in one GPT call.

        Seeded items render alone: a shared sampling call could not repeat their speech.
        """
        rows: list[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor, float]] = []
        audios: dict[int, Audio] = {}
        with torch.inference_mode():
            for index, item in enumerate(items):
                if item.seed is not None:
                    continue
                code = xtts_language(item.language)
                latent, embedding = self._voice(item.latents, item.speaker)
                for sentence in split_chunks(item.text, max_chars=self.char_limit(code)):
                    rows.append(
                        (index, self._tokens(sentence, code), latent, embedding, item.speed)
                    )
            if rows:
                gpt = self._model.gpt
                prefixes = [
                    prefix_embedding(gpt, latent, tokens) for _, tokens, latent, _, _ in rows
                ]
                codes = generate_codes(gpt, prefixes, **self._generate)
                pieces: dict[int, list[np.ndarray]] = {}
                for (index, tokens, latent, embedding, speed), row in zip(rows, codes, strict=True):
                    wav = self._decode(tokens, row, latent, embedding, speed)
                    pieces.setdefault(index, []).append(wav)
                audios = {index: _audio(np.concatenate(wavs)) for index, wavs in pieces.items()}
        for index, item in enumerate(items):
            if index not in audios:  # seeded, or no speakable sentence
                audios[index] = self.synthesize(
                    item.text,
                    language=item.language,
                    latents=item.latents,
                    speaker=item.speaker,
                    speed=item.speed,
                    seed=item.seed,
                )
        return [audios[index] for index in range(len(items))]

    def _tokens(self, sentence: str, code: str) -> torch.Tensor:
        ids = self._model.tokenizer.encode(sentence.strip().lower(), lang=_primary(code))
        return torch.IntTensor(ids)[None, :].to(self._device)

    def _decode(
        self,
        tokens: torch.Tensor,
        codes: torch.Tensor,
        latent: torch.Tensor,
        embedding: torch.Tensor,
        speed: float,
    ) -> np.ndarray:
        """Speech from one row's codes, as coqui's ``inference`` turns its codes into a wav."""
        gpt = self._model.gpt
        lengths = torch.tensor([tokens.shape[-1]], device=self._device)
        wav_lengths = torch.tensor([codes.shape[-1] * gpt.code_stride_len], device=self._device)
        latents = gpt(
            tokens,
            lengths,
            codes[None, :],
            wav_lengths,
            cond_latents=latent,
            return_attentions=False,
            return_latent=True,
        )
        wav = self._model.hifigan_decoder(_stretch(latents, speed), g=embedding)
        return np.asarray(wav.float().cpu().squeeze(), dtype=np.float32)

    def _voice(
        self, latents: bytes | None, speaker: str | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if latents is not None:
            stored = torch.load(io.BytesIO(latents), weights_only=True)
            pair = stored["gpt_cond_latent"], stored["speaker_embedding"]
        elif speaker is not None:
            voice = self._model.speaker_manager.speakers[speaker]
            pair = voice["gpt_cond_latent"], voice["speaker_embedding"]
        else:
            raise ValueError("XTTS needs conditioning latents or a studio speaker")
        return pair[0].to(self._device), pair[1].to(self._device)


class _StreamWindow:
    """The decoder's output for a growing latent sequence, chunk by chunk, as coqui's
    ``inference_stream`` cuts it (each chunk holds back OVERLAP samples to cross-fade into the
    next), computing only the samples a chunk needs."""

    def __init__(self, decoder: Any, embedding: torch.Tensor, speed: float) -> None:
        self._decoder = decoder
        self._embedding = embedding
        self._speed = speed
        self._hop = decoder.output_hop_length  # output samples per decoder frame
        self._emitted = 0  # samples of the whole decode sent so far (the held tail excluded)
        self._held: torch.Tensor | None = None

    def next_chunk(self, latents: torch.Tensor, *, final: bool) -> torch.Tensor:
        """The next chunk, given every latent so far ([1, T, C])."""
        frames = self._frames(_stretch(latents, self._speed))
        start = max(0, self._emitted // self._hop - DECODER_CONTEXT)
        tail = self._decoder.waveform_decoder(frames[:, :, start:], g=self._embedding)
        tail = tail.reshape(-1)[self._emitted - start * self._hop :]
        chunk = tail if final else tail[:-OVERLAP]
        if self._held is not None:
            fade = torch.linspace(0.0, 1.0, OVERLAP, device=chunk.device)
            chunk = chunk.clone()
            chunk[:OVERLAP] = self._held * (1.0 - fade) + chunk[:OVERLAP] * fade
        self._held = None if final else tail[-OVERLAP:]
        self._emitted += len(chunk)
        return chunk

    def _frames(self, latents: torch.Tensor) -> torch.Tensor:
        """The decoder's input frames, exactly as HifiDecoder.forward upsamples the latents."""
        decoder = self._decoder
        frames = F.interpolate(
            latents.transpose(1, 2),
            mode="linear",
            scale_factor=[decoder.ar_mel_length_compression / self._hop],
        )
        if decoder.output_sample_rate != decoder.input_sample_rate:
            frames = F.interpolate(
                frames,
                mode="linear",
                scale_factor=[decoder.output_sample_rate / decoder.input_sample_rate],
            )
        return frames


def _stretch(latents: torch.Tensor, speed: float) -> torch.Tensor:
    """GPT latents ([1, T, C]) stretched in time for ``speed``, as coqui's inference does."""
    if speed == 1.0:
        return latents
    return F.interpolate(
        latents.transpose(1, 2), scale_factor=1.0 / max(speed, 0.05), mode="linear"
    ).transpose(1, 2)


def _primary(code: str) -> str:
    return code.split("-")[0]


def _audio(samples: np.ndarray) -> Audio:
    return Audio(np.clip(samples, -1.0, 1.0).astype(np.float32), SAMPLE_RATE)
