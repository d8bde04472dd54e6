"""Encoders that turn audio into bytes piece by piece, for responses sent as speech renders.

Feed each rendered piece; send what ``feed`` returns at once; send what ``close`` returns at
the end. Every byte returned is final: nothing written earlier is ever rewritten (a stream
cannot seek back), so a client may play the bytes as they arrive.
"""

from __future__ import annotations

import io
from typing import Protocol

import numpy as np
import soundfile as sf

from voxify.audio.encode import FORMATS, check_sample_rate, encode, wav_header
from voxify.speech import Audio

# PyAV (FFmpeg) container and encoder per format it streams.
_AV: dict[str, tuple[str, str]] = {
    "mp3": ("mp3", "libmp3lame"),
    "opus": ("ogg", "libopus"),
    "aac": ("adts", "aac"),
    "flac": ("flac", "flac"),
}
# An Ogg page every 20 ms of Opus, not FFmpeg's default of one per second: earlier first bytes.
_OGG_PAGE_US = "20000"


class StreamEncoder(Protocol):
    def feed(self, samples: np.ndarray) -> bytes: ...

    def close(self) -> bytes: ...


def stream_encoder(fmt: str, sample_rate: int) -> StreamEncoder:
    """An encoder of mono audio at ``sample_rate`` into ``fmt``, piece by piece."""
    if fmt not in FORMATS:
        raise ValueError(f"unsupported format {fmt!r}; choose one of {', '.join(FORMATS)}")
    check_sample_rate(sample_rate, fmt)
    if fmt in _AV:
        return _AvEncoder(fmt, sample_rate)
    if fmt == "ogg":
        return _VorbisEncoder(sample_rate)
    return _RawEncoder(fmt, sample_rate)


class _RawEncoder:
    """Sample-by-sample formats: each piece encodes alone (WAV: a header of unknown length
    first, which players accept for streams)."""

    def __init__(self, fmt: str, sample_rate: int) -> None:
        self._fmt = "pcm" if fmt == "wav" else fmt
        self._rate = sample_rate
        self._header = wav_header(sample_rate) if fmt == "wav" else b""

    def feed(self, samples: np.ndarray) -> bytes:
        header, self._header = self._header, b""
        if len(samples) == 0:
            return header
        return header + encode(Audio(samples, self._rate), self._fmt)

    def close(self) -> bytes:
        header, self._header = self._header, b""
        return header


class _Sink:
    """A write-only file for FFmpeg: it cannot seek, so muxers never rewrite what was sent."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class _AvEncoder:
    def __init__(self, fmt: str, sample_rate: int) -> None:
        import av

        container, codec = _AV[fmt]
        options = {"page_duration": _OGG_PAGE_US} if container == "ogg" else {}
        self._sink = _Sink()
        self._out = av.open(self._sink, mode="w", format=container, container_options=options)
        stream = self._out.add_stream(codec, rate=sample_rate, layout="mono")
        assert isinstance(stream, av.audio.stream.AudioStream)
        self._stream = stream
        self._rate = sample_rate
        self._pts = 0
        self._fed = False

    def feed(self, samples: np.ndarray) -> bytes:
        import av

        if len(samples) == 0:
            return self._sink.take()
        pcm = np.round(np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767)
        frame = av.AudioFrame.from_ndarray(
            pcm.astype(np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = self._rate
        frame.pts = self._pts
        self._pts += len(samples)
        self._fed = True
        for packet in self._stream.encode(frame):
            self._out.mux(packet)
        return self._sink.take()

    def close(self) -> bytes:
        if not self._fed:  # nothing decodable comes of no audio: one silent frame instead
            self.feed(np.zeros(self._rate // 100, dtype=np.float32))
        for packet in self._stream.encode(None):
            self._out.mux(packet)
        self._out.close()
        return self._sink.take()


class _VorbisEncoder:
    """Ogg Vorbis through libsndfile (FFmpeg's own Vorbis encoder is experimental): pages
    are sent as libsndfile completes them; it only appends to an Ogg stream."""

    def __init__(self, sample_rate: int) -> None:
        self._buffer = io.BytesIO()
        self._file = sf.SoundFile(
            self._buffer,
            mode="w",
            samplerate=sample_rate,
            channels=1,
            format="OGG",
            subtype="VORBIS",
        )
        self._sent = 0

    def feed(self, samples: np.ndarray) -> bytes:
        if len(samples):
            self._file.write(np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0))
        return self._new_bytes()

    def close(self) -> bytes:
        self._file.close()
        return self._new_bytes()

    def _new_bytes(self) -> bytes:
        with self._buffer.getbuffer() as view:  # no copy of what was already sent
            data = bytes(view[self._sent :])
        self._sent += len(data)
        return data
