"""Audio to bytes: whole files (libsndfile, PyAV for AAC and Opus, G.711 and raw PCM) and the
rules of which sample rates each format can carry."""

from __future__ import annotations

import io
import struct

import numpy as np
import soundfile as sf

from voxify.speech import Audio

# Every output format and its media type (raw PCM's names its rate: see content_type).
FORMATS: dict[str, str] = {
    "wav": "audio/wav",
    "flac": "audio/flac",
    "ogg": "audio/ogg",  # Vorbis
    "mp3": "audio/mpeg",
    "opus": "audio/ogg; codecs=opus",
    "aac": "audio/aac",  # ADTS frames
    "pcm": "audio/pcm",  # signed 16-bit little-endian mono, no header
    "ulaw": "audio/basic",  # G.711 mu-law, 8 kHz, no header (telephony)
    "alaw": "audio/x-alaw-basic",  # G.711 A-law, 8 kHz, no header
}

# (libsndfile major format, subtype) for the formats it writes whole.
_SOUNDFILE: dict[str, tuple[str, str]] = {
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "ulaw": ("RAW", "ULAW"),
    "alaw": ("RAW", "ALAW"),
}
# Formats that carry only some rates. MPEG layer III and AAC define these; Opus encodes at
# these (and decodes at 48 kHz); G.711 is 8 kHz by definition.
MP3_SAMPLE_RATES = frozenset({8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000})
RATE_SETS: dict[str, frozenset[int]] = {
    "mp3": MP3_SAMPLE_RATES,
    "aac": frozenset({7350, 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000}),
    "opus": frozenset({8000, 12000, 16000, 24000, 48000}),
    "ulaw": frozenset({8000}),
    "alaw": frozenset({8000}),
}
# FLAC's STREAMINFO caps the rate; libvorbis crashes the whole process (SIGSEGV, not an
# error) a little above 200 kHz, so Vorbis is held to the largest common studio rate.
_MAX_RATE = {"flac": 655350, "ogg": 192000}
# Encoders that write nothing decodable for an empty stream.
_NEEDS_SAMPLES = frozenset({"flac", "mp3", "aac", "opus"})
_UNKNOWN_SIZE = 0xFFFFFFFF


def encode(audio: Audio, fmt: str) -> bytes:
    """Encode mono audio as a complete file (or raw stream) in ``fmt``."""
    if fmt not in FORMATS:
        raise ValueError(f"unsupported format {fmt!r}; choose one of {', '.join(FORMATS)}")
    check_sample_rate(audio.sample_rate, fmt)
    if fmt in _NEEDS_SAMPLES and len(audio.samples) == 0:
        raise ValueError(f"cannot encode empty audio as {fmt}")
    if fmt == "wav":  # a header and the samples: no need for libsndfile's general writer
        data = pcm16(audio)
        return wav_header(audio.sample_rate, data_bytes=len(data)) + data
    if fmt == "pcm":
        return pcm16(audio)
    if fmt in _SOUNDFILE:
        major, subtype = _SOUNDFILE[fmt]
        buffer = io.BytesIO()
        samples = np.clip(np.asarray(audio.samples, dtype=np.float32), -1.0, 1.0)
        sf.write(buffer, samples, audio.sample_rate, format=major, subtype=subtype)
        return buffer.getvalue()
    from voxify.audio.stream_encode import stream_encoder  # PyAV: loaded only when used

    encoder = stream_encoder(fmt, audio.sample_rate)
    return encoder.feed(audio.samples) + encoder.close()


def check_sample_rate(sample_rate: int, fmt: str) -> None:
    """Raise ValueError if ``fmt`` cannot carry audio at ``sample_rate``."""
    allowed = RATE_SETS.get(fmt)
    if allowed is not None and sample_rate not in allowed:
        rates = ", ".join(str(rate) for rate in sorted(allowed))
        raise ValueError(f"{fmt} cannot carry {sample_rate} Hz; supported rates are {rates}")
    limit = _MAX_RATE.get(fmt, 2**31 - 1)
    if not 1 <= sample_rate <= limit:
        raise ValueError(f"{fmt} cannot carry {sample_rate} Hz; the range is 1 to {limit} Hz")


def output_rate(fmt: str, requested: int | None, native: int) -> int:
    """The rate ``fmt`` is delivered at: the one asked for (ValueError if ``fmt`` cannot carry
    it), else the voice's own when ``fmt`` can carry it, else the format's nearest rate above
    it (its highest when none is above)."""
    if requested is not None:
        check_sample_rate(requested, fmt)
        return requested
    allowed = RATE_SETS.get(fmt)
    if allowed is None or native in allowed:
        check_sample_rate(native, fmt)
        return native
    above = [rate for rate in sorted(allowed) if rate >= native]
    return above[0] if above else max(allowed)


def content_type(fmt: str, sample_rate: int) -> str:
    """The media type of ``fmt``; headerless PCM names its rate, as nothing else carries it."""
    if fmt == "pcm":
        return f"audio/pcm;rate={sample_rate};channels=1"
    return FORMATS[fmt]


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
