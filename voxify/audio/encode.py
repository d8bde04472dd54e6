"""Audio to bytes: whole files via libsndfile, and raw PCM plus a header for streaming WAV."""

from __future__ import annotations

import io
import struct

import numpy as np
import soundfile as sf

from voxify.speech import Audio

FORMATS: dict[str, str] = {
    "wav": "audio/wav",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "mp3": "audio/mpeg",
}

# (libsndfile major format, subtype) per output format.
_SOUNDFILE: dict[str, tuple[str, str]] = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
}
# MPEG-1/2/2.5 layer III define exactly these rates; libsndfile rejects any other.
MP3_SAMPLE_RATES = frozenset({8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000})
# FLAC's STREAMINFO caps the rate; libvorbis crashes the whole process (SIGSEGV, not an
# error) a little above 200 kHz, so Vorbis is held to the largest common studio rate.
_MAX_RATE = {"wav": 2**31 - 1, "flac": 655350, "ogg": 192000, "mp3": 48000}
# libsndfile writes zero bytes for an empty FLAC or MP3 stream, which nothing can decode.
_NEEDS_SAMPLES = frozenset({"flac", "mp3"})
_UNKNOWN_SIZE = 0xFFFFFFFF


def encode(audio: Audio, fmt: str) -> bytes:
    """Encode mono audio as a complete wav, flac, ogg (Vorbis) or mp3 file."""
    if fmt not in _SOUNDFILE:
        raise ValueError(f"unsupported format {fmt!r}; choose one of {', '.join(FORMATS)}")
    check_sample_rate(audio.sample_rate, fmt)
    if fmt in _NEEDS_SAMPLES and len(audio.samples) == 0:
        raise ValueError(f"cannot encode empty audio as {fmt}")
    if fmt == "wav":  # a header and the samples: no need for libsndfile's general writer
        data = pcm16(audio)
        return wav_header(audio.sample_rate, data_bytes=len(data)) + data
    major, subtype = _SOUNDFILE[fmt]
    buffer = io.BytesIO()
    samples = np.clip(np.asarray(audio.samples, dtype=np.float32), -1.0, 1.0)
    sf.write(buffer, samples, audio.sample_rate, format=major, subtype=subtype)
    return buffer.getvalue()


def check_sample_rate(sample_rate: int, fmt: str) -> None:
    """Raise ValueError if ``fmt`` cannot carry audio at ``sample_rate``."""
    if fmt == "mp3" and sample_rate not in MP3_SAMPLE_RATES:
        rates = ", ".join(str(rate) for rate in sorted(MP3_SAMPLE_RATES))
        raise ValueError(f"mp3 cannot carry {sample_rate} Hz; supported rates are {rates}")
    limit = _MAX_RATE.get(fmt)
    if limit is not None and not 1 <= sample_rate <= limit:
        raise ValueError(f"{fmt} cannot carry {sample_rate} Hz; the range is 1 to {limit} Hz")


def wav_header(
    sample_rate: int, num_channels: int = 1, bits: int = 16, *, data_bytes: int | None = None
) -> bytes:
    """A 44-byte PCM WAV header; without ``data_bytes``, for a stream of unknown length
    (sizes set to 0xFFFFFFFF)."""
    if bits not in (8, 16, 24, 32):
        raise ValueError(f"bits must be 8, 16, 24 or 32, got {bits}")
    if num_channels < 1 or sample_rate < 1:
        raise ValueError("num_channels and sample_rate must be positive")
    block_align = num_channels * bits // 8
    byte_rate = sample_rate * block_align
    fmt_chunk = struct.pack("<HHIIHH", 1, num_channels, sample_rate, byte_rate, block_align, bits)
    data_size = _UNKNOWN_SIZE if data_bytes is None else data_bytes
    riff_size = _UNKNOWN_SIZE if data_bytes is None else 36 + data_bytes
    return (
        struct.pack("<4sI4s", b"RIFF", riff_size, b"WAVE")
        + struct.pack("<4sI", b"fmt ", len(fmt_chunk))
        + fmt_chunk
        + struct.pack("<4sI", b"data", data_size)
    )


def pcm16(audio: Audio) -> bytes:
    """Samples as signed 16-bit little-endian PCM, rounded and clipped."""
    scaled = np.round(np.clip(np.asarray(audio.samples, dtype=np.float32), -1.0, 1.0) * 32767)
    return scaled.astype("<i2").tobytes()
