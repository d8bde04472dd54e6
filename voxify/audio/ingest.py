"""An uploaded voice sample on its way to cloning: decode, validate, VAD-trim, normalise."""

from __future__ import annotations

import io
import itertools
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import soundfile as sf
from scipy.signal import butter, sosfiltfilt

from voxify.audio.analysis import CLIP_LEVEL, FRAME_S, SILENCE_DBFS, estimate_f0
from voxify.audio.effects import resample
from voxify.errors import AudioSilent, AudioTooLong, AudioTooShort, InvalidAudio
from voxify.speech import Audio

_MAGIC = {b"fLaC": "flac", b"OggS": "ogg", b"ID3": "mp3"}  # ID3: a tag before MPEG frames
MIN_UPLOAD_RATE, MAX_UPLOAD_RATE = 8000, 192000
# Decoding bounds (see decode_upload): 15 min is beyond any useful sample, and no more mono
# samples than 15 min at 48 kHz are kept (173 MB of float32), so a 192 kHz file gets 225 s.
MAX_UPLOAD_S = 900.0
MAX_DECODED_SAMPLES = 48_000 * 900
MAX_UPLOAD_CHANNELS = 8
DECODE_BLOCK_FRAMES = 65_536
DECODE_DEADLINE_S = 30.0
_UNKNOWN_FRAMES = 2**62  # libsndfile reports a length a header leaves open as 2**63 - 1
MIN_SPEECH_S, MAX_SPEECH_S = 3.0, 300.0
TARGET_RMS_DBFS, PEAK_CEILING_DBFS = -23.0, -1.0
VAD_FRAME_S, EDGE_PAD_S, LONG_PAUSE_S, PAUSE_KEEP_S = 0.030, 0.25, 1.0, 0.5
SILENT_DBFS, MIN_AUDIBLE_S = -50.0, 0.5  # no louder frame, or less speech: nothing was said
_VAD_MIN_DBFS, _DIGITAL_SILENCE_DBFS = -60.0, -100.0
_GAP_FILL_S = 0.3  # pauses between words and stop closures still count as speech
_MIN_BURST_S = 0.09  # shorter active runs are clicks or breaths, not syllables
_CROSSFADE_S, _HIGHPASS_HZ = 0.010, 30.0
# Quality score weights (sum 10): how much each measure can cost a clean, long sample.
W_SNR, W_CLIPPING, W_DURATION, W_VOICED = 4.0, 2.0, 2.0, 2.0
SNR_POOR_DB, SNR_GOOD_DB, SNR_CAP_DB = 10.0, 35.0, 60.0
CLIPPING_BAD, DURATION_GOOD_S, VOICED_GOOD = 0.01, 10.0, 0.4


@dataclass(frozen=True)
class ValidationReport:
    """Measurements of a voice sample and the warnings a user should see."""

    speech_duration_s: float  # active speech kept after trimming
    total_duration_s: float  # the prepared clip, pauses and padding included
    clipping_fraction: float  # of the original decoded samples, |x| >= 0.999
    original_rms_dbfs: float  # the whole original clip
    silence_fraction: float  # 30 ms frames of the upload that the VAD called non-speech
    snr_db: float  # loudest 50% of frames vs the quietest 10%, capped at 60 dB
    voiced_fraction: float  # active 20 ms frames with a confident F0
    output_rms_dbfs: float  # active speech after loudness normalisation
    quality_score: float  # 0..10, see _quality_score
    issues: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures, rounded for display."""
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class PreparedSample:
    """The processed clip the cloner consumes, with its validation report."""

    audio: Audio
    report: ValidationReport

    def to_dict(self) -> dict[str, Any]:
        """The report plus the prepared clip's sample rate."""
        return {"sample_rate": self.audio.sample_rate, **self.report.to_dict()}


def sniff_format(head: bytes) -> str | None:
    """Container format from the first bytes: "wav", "flac", "ogg", "mp3" or None."""
    if len(head) >= 12 and head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    for magic, fmt in _MAGIC.items():
        if head.startswith(magic):
            return fmt
    if len(head) >= 3 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        # Frame sync alone matches 1 in 2048 random pairs; reserved version, layer 00 (which
        # AAC's ADTS uses) and bitrate index 15 are invalid in an MPEG audio frame.
        version, layer, bitrate = (head[1] >> 3) & 3, (head[1] >> 1) & 3, head[2] >> 4
        if version != 1 and layer != 0 and bitrate != 15:
            return "mp3"
    return None


def decode_upload(
    data: bytes, *, max_duration_s: float = MAX_UPLOAD_S, deadline_s: float = DECODE_DEADLINE_S
) -> Audio:
    """Decode an uploaded WAV/FLAC/OGG/MP3 to mono float32, or raise InvalidAudio.

    Compressed audio can expand a thousandfold (a few hundred KB of FLAC silence is hours of
    samples), so decoding is bounded: a header that admits more than the limit is refused
    before a sample is read, decoding stops as soon as the limit is passed whatever the header
    said, one block of frames is decoded at a time and only its mono mix is kept, and a
    decode that outlasts ``deadline_s`` is abandoned.
    """
    if not data:
        raise InvalidAudio("The upload is empty (0 bytes)")
    fmt = sniff_format(data[:16])
    if fmt is None:
        raise InvalidAudio("The upload is not a WAV, FLAC, OGG or MP3 file")
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            rate, channels, frames = int(f.samplerate), int(f.channels), int(f.frames)
            if not MIN_UPLOAD_RATE <= rate <= MAX_UPLOAD_RATE:
                message = f"Sample rate {rate} Hz is outside {MIN_UPLOAD_RATE}-{MAX_UPLOAD_RATE} Hz"
                raise InvalidAudio(message, details={"sample_rate": rate})
            if not 1 <= channels <= MAX_UPLOAD_CHANNELS:
                message = f"{channels} channels; at most {MAX_UPLOAD_CHANNELS} are accepted"
                raise InvalidAudio(message, details={"channels": channels})
            limit = min(int(max_duration_s * rate), MAX_DECODED_SAMPLES)
            if frames >= _UNKNOWN_FRAMES:
                # An open length (FLAC written as a stream): libsndfile reads such a file to
                # its end and then fails to seek there, so it is refused with the reason.
                raise InvalidAudio(
                    f"The {fmt} file does not state its length (written as a stream); "
                    "re-encode it, or send WAV",
                    details={"format": fmt},
                )
            if frames > limit:  # checked before reading: the header alone asks for too much
                raise _too_long(limit, rate, claimed_s=frames / rate)
            mono = _read_mono(
                f, channels=channels, frames=frames, limit=limit, deadline_s=deadline_s
            )
    except (sf.SoundFileError, RuntimeError, ValueError, EOFError, OSError) as exc:
        message = f"Could not decode the {fmt} file: {exc}"
        raise InvalidAudio(message, details={"format": fmt}) from exc
    if mono.size == 0:
        raise InvalidAudio(f"The {fmt} file contains no audio samples", details={"format": fmt})
    if not np.isfinite(mono).all():
        raise InvalidAudio("The audio contains NaN or infinite samples", details={"format": fmt})
    return Audio(mono, rate)


def _read_mono(
    f: sf.SoundFile, *, channels: int, frames: int, limit: int, deadline_s: float
) -> np.ndarray:
    """Up to ``limit`` frames of ``f`` mixed to mono, a block at a time; InvalidAudio beyond
    ``limit`` frames or ``deadline_s`` seconds."""
    deadline = time.monotonic() + deadline_s
    block = np.empty((DECODE_BLOCK_FRAMES, channels), dtype=np.float32)
    out = np.empty(frames if 0 < frames <= limit else DECODE_BLOCK_FRAMES, dtype=np.float32)
    total = 0
    # libsndfile stops at the length the header gives, which was checked; the limit here
    # holds whatever a decoder does with a header that lies.
    while count := f.buffer_read_into(block, "float32"):
        if total + count > limit:
            raise _too_long(limit, int(f.samplerate), claimed_s=frames / f.samplerate)
        if time.monotonic() > deadline:
            raise InvalidAudio(
                f"Decoding took longer than {deadline_s:g} s; the file is too complex or damaged",
                details={"decoded_s": round(total / f.samplerate, 3)},
            )
        if total + count > out.size:
            out = np.resize(out, min(limit, 2 * out.size + count))
        piece = block[:count]
        out[total : total + count] = piece.mean(axis=1) if channels > 1 else piece[:, 0]
        total += count
    return out[:total] if total < out.size else out


def _too_long(limit: int, rate: int, *, claimed_s: float) -> InvalidAudio:
    longest = limit / rate
    details = {"max_duration_s": round(longest, 3), "sample_rate": rate}
    if claimed_s > 0:  # what the header says; nothing when it did not say
        details["duration_s"] = round(claimed_s, 3)
    return AudioTooLong(f"The recording is longer than {longest:g} s", details=details)


def prepare_sample(
    audio: Audio,
    *,
    target_rate: int = 22050,
    min_speech_s: float = MIN_SPEECH_S,
    max_speech_s: float = MAX_SPEECH_S,
) -> PreparedSample:
    """Resample, remove DC, VAD-trim, loudness-normalise and validate a voice sample."""
    original = np.asarray(audio.samples, dtype=np.float32).reshape(-1)
    if not np.isfinite(original).all():
        raise InvalidAudio("The audio contains NaN or infinite samples")
    if original.size < MIN_AUDIBLE_S * audio.sample_rate:
        raise AudioSilent(details={"total_duration_s": round(audio.duration, 3)})
    clipping = float(np.mean(np.abs(original) >= CLIP_LEVEL))
    original_rms = _dbfs(float(np.mean(np.square(original, dtype=np.float64))))
    sr, hop = target_rate, round(VAD_FRAME_S * target_rate)
    # DC hides the noise floor. A high-pass, not the mean: offsets drift, and a global mean
    # turns digital-silence padding into a DC step that YIN reads as voiced at its top F0.
    x = sosfiltfilt(
        butter(2, _HIGHPASS_HZ, "highpass", fs=sr, output="sos"),
        resample(original, audio.sample_rate, sr),
    )
    energy_db = _frame_db(x, hop)
    floor_db, snr = _noise_floor(energy_db)
    active = _vad(energy_db, floor_db)
    # The last frame is zero-padded, so it may overhang the clip's end.
    speech_s = min(float(active.sum()) * VAD_FRAME_S, len(x) / sr)
    figures = {"speech_duration_s": round(speech_s, 3), "total_duration_s": round(len(x) / sr, 3)}
    if energy_db.max() < SILENT_DBFS or speech_s < MIN_AUDIBLE_S:
        raise AudioSilent(details={**figures, "loudest_frame_dbfs": round(energy_db.max(), 1)})
    if speech_s < min_speech_s:
        message = f"Only {speech_s:.1f} s of speech; at least {min_speech_s:g} s is needed"
        raise AudioTooShort(message, details={**figures, "min_speech_s": min_speech_s})
    if speech_s > max_speech_s:
        message = f"{speech_s:.1f} s of speech; at most {max_speech_s:g} s is allowed"
        raise AudioTooLong(message, details={**figures, "max_speech_s": max_speech_s})
    speech_db = _dbfs(float(np.mean(10 ** (energy_db[active] / 10))))
    segments = _keep_segments(active, hop, len(x), sr)
    out = _splice(x, segments, round(_CROSSFADE_S * sr))
    peak_db = 20 * math.log10(max(float(np.max(np.abs(out))), 1e-9))
    # Gain, not a limiter, so peaks are never distorted; a peaky clip just ends up quieter.
    gain_db = min(TARGET_RMS_DBFS - speech_db, PEAK_CEILING_DBFS - peak_db)
    gain = 10 ** (gain_db / 20)
    voiced = _voiced_fraction(x * gain, sr, active)
    out_rms = speech_db + gain_db
    score = _quality_score(snr, clipping, speech_s, voiced)
    issues = _issues(snr, clipping, speech_s, voiced, speech_db, out_rms, len(segments) > 1)
    report = ValidationReport(
        speech_duration_s=speech_s,
        total_duration_s=len(out) / sr,
        clipping_fraction=clipping,
        original_rms_dbfs=original_rms,
        silence_fraction=1.0 - float(active.mean()),
        snr_db=snr,
        voiced_fraction=voiced,
        output_rms_dbfs=out_rms,
        quality_score=score,
        issues=issues,
    )
    return PreparedSample(Audio((out * gain).astype(np.float32), sr), report)


def _frame_db(x: np.ndarray, hop: int) -> np.ndarray:
    """Mean power per frame in dBFS, the last partial frame zero-padded."""
    count = max(1, math.ceil(len(x) / hop))
    frames = np.pad(x, (0, count * hop - len(x)))
    power = np.mean(frames.reshape(count, hop) ** 2, axis=1)
    return np.maximum(10 * np.log10(np.maximum(power, 1e-30)), SILENCE_DBFS)


def _noise_floor(energy_db: np.ndarray) -> tuple[float, float]:
    """Noise floor (dBFS) from the quietest 10% of frames, and the SNR against the loudest 50%."""
    # Digital silence (an editor's padding, a gated mic) is no sign of the room's noise;
    # counting it would make the floor -120 dB and the VAD threshold meaningless.
    recorded = energy_db[energy_db > _DIGITAL_SILENCE_DBFS]
    if recorded.size == 0:
        return SILENCE_DBFS, 0.0
    ordered = np.sort(recorded)
    quiet = ordered[: max(1, len(ordered) // 10)]
    loud = ordered[len(ordered) // 2 :]
    floor_db = _dbfs(float(np.mean(10 ** (quiet / 10))))
    snr = _dbfs(float(np.mean(10 ** (loud / 10)))) - floor_db
    return floor_db, float(min(max(snr, 0.0), SNR_CAP_DB))


def _vad(energy_db: np.ndarray, floor_db: float) -> np.ndarray:
    """Active-speech mask per frame: an adaptive energy threshold, gaps filled, clicks dropped."""
    level_db = float(np.percentile(energy_db, 90))
    # A quarter of the way from the floor to the speech level (at least 6 dB over the floor)
    # adapts to noisy rooms, but never below 40 dB under the speech level nor -60 dBFS.
    threshold = floor_db + max(6.0, (level_db - floor_db) / 4)
    threshold = max(threshold, level_db - 40.0, _VAD_MIN_DBFS)
    active = energy_db > threshold
    active = _fill_runs(active, False, round(_GAP_FILL_S / VAD_FRAME_S), inner_only=True)
    return _fill_runs(active, True, round(_MIN_BURST_S / VAD_FRAME_S), inner_only=False)


def _fill_runs(mask: np.ndarray, value: bool, max_len: int, *, inner_only: bool) -> np.ndarray:
    """Flip runs of ``value`` no longer than max_len frames (inner runs only, if asked)."""
    out = mask.copy()
    for start, end in _runs(mask == value):
        inner = start > 0 and end < len(mask)
        if end - start <= max_len and (inner or not inner_only):
            out[start:end] = not value
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def _keep_segments(active: np.ndarray, hop: int, length: int, sr: int) -> list[tuple[int, int]]:
    """Sample ranges to keep: speech plus edge padding, long pauses cut to PAUSE_KEEP_S."""
    speech = _runs(active)
    pad, keep = round(EDGE_PAD_S * sr), round(PAUSE_KEEP_S * sr / 2)
    start = max(0, speech[0][0] * hop - pad)
    segments: list[tuple[int, int]] = []
    for (_, end), (next_start, _) in itertools.pairwise(speech):
        if (next_start - end) * VAD_FRAME_S > LONG_PAUSE_S:
            segments.append((start, end * hop + keep))
            start = next_start * hop - keep
    segments.append((start, min(length, speech[-1][1] * hop + pad)))
    return segments


def _splice(x: np.ndarray, segments: list[tuple[int, int]], fade: int) -> np.ndarray:
    """Join the segments with short linear crossfades, so the cuts in room noise do not click."""
    out = x[segments[0][0] : segments[0][1]]
    ramp = np.linspace(0.0, 1.0, fade)
    for start, end in segments[1:]:
        piece = x[start:end]
        blend = out[-fade:] * ramp[::-1] + piece[:fade] * ramp
        out = np.concatenate([out[:-fade], blend, piece[fade:]])
    return out


def _voiced_fraction(x: np.ndarray, sr: int, active: np.ndarray) -> float:
    """Share of the active 20 ms frames where the F0 tracker is confident."""
    f0, times = estimate_f0(x, sr, frame_period_ms=FRAME_S * 1000, refine=False)
    index = np.minimum((times / VAD_FRAME_S).astype(np.int64), len(active) - 1)
    in_speech = active[index]
    return float(np.mean(f0[in_speech] > 0)) if in_speech.any() else 0.0


def _quality_score(snr: float, clipping: float, speech_s: float, voiced: float) -> float:
    """0..10: SNR up to 4 points, no clipping 2, speech length 2, voicing 2."""
    ratios = [
        (snr - SNR_POOR_DB) / (SNR_GOOD_DB - SNR_POOR_DB),
        1.0 - clipping / CLIPPING_BAD,
        speech_s / DURATION_GOOD_S,
        voiced / VOICED_GOOD,
    ]
    weights = [W_SNR, W_CLIPPING, W_DURATION, W_VOICED]
    return round(float(np.clip(ratios, 0.0, 1.0) @ np.array(weights)), 2)


def _issues(
    snr: float,
    clipping: float,
    speech_s: float,
    voiced: float,
    speech_db: float,
    out_rms: float,
    pauses_cut: bool,
) -> list[str]:
    """Human-readable warnings for figures that will make the clone worse."""
    checks = [
        (
            clipping > CLIPPING_BAD / 10,
            f"{clipping:.1%} of samples are clipped; record with less input gain",
        ),
        (snr < 20.0, f"Background noise is high (SNR {snr:.0f} dB); record in a quieter room"),
        (
            speech_s < DURATION_GOOD_S,
            f"Only {speech_s:.1f} s of speech; {DURATION_GOOD_S:g} s or more clones better",
        ),
        (
            voiced < VOICED_GOOD / 2,
            f"Little voiced speech ({voiced:.0%}); is this whispered, music or noise?",
        ),
        (speech_db < -40.0, f"The recording is very quiet ({speech_db:.0f} dBFS speech level)"),
        (
            out_rms < TARGET_RMS_DBFS - 3.0,
            f"Loud peaks kept the speech at {out_rms:.0f} dBFS instead of {TARGET_RMS_DBFS:g}",
        ),
        (pauses_cut, f"Pauses over {LONG_PAUSE_S:g} s were shortened to {PAUSE_KEEP_S:g} s"),
    ]
    return [message for flagged, message in checks if flagged]


def _dbfs(power: float) -> float:
    """Mean power to dBFS, -120 for digital silence."""
    return max(10 * math.log10(power), SILENCE_DBFS) if power > 0 else SILENCE_DBFS
