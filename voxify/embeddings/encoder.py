"""Speaker embeddings: resemblyzer's encoder behind a numpy front end that never touches librosa."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from resemblyzer import VoiceEncoder, hparams
from resemblyzer.audio import normalize_volume, trim_long_silences
from scipy.signal import get_window

from voxify.audio.effects import resample
from voxify.errors import AudioSilent, InvalidAudio
from voxify.speech import Audio

EMBEDDING_DIM = hparams.model_embedding_size  # 256
SAMPLE_RATE = hparams.sampling_rate  # 16 kHz: the rate the encoder was trained on

_N_FFT = SAMPLE_RATE * hparams.mel_window_length // 1000  # 25 ms window: 400 samples
_HOP = SAMPLE_RATE * hparams.mel_window_step // 1000  # 10 ms step: 160 samples
_VAD_WINDOW = SAMPLE_RATE * hparams.vad_window_length // 1000
# resemblyzer's defaults for cutting an utterance into overlapping 1.6 s partials.
_PARTIALS_PER_S = 1.3
_MIN_COVERAGE = 0.75

# Slaney's mel scale (librosa's default, which resemblyzer was trained with): linear to 1 kHz,
# logarithmic above.
_HZ_PER_MEL = 200.0 / 3
_LOG_START_HZ = 1000.0
_LOG_START_MEL = _LOG_START_HZ / _HZ_PER_MEL
_LOG_STEP = math.log(6.4) / 27.0


class SpeakerEncoder:
    """resemblyzer's d-vector encoder on the CPU; not thread-safe, one call at a time."""

    def __init__(self, *, threads: int | None = None) -> None:
        if threads is not None:
            torch.set_num_threads(threads)
        # Always the CPU: the LSTM is small, and a GPU here would be taken from the synthesizers.
        self._model = VoiceEncoder(device="cpu", verbose=False).eval()
        self._window = get_window("hann", _N_FFT, fftbins=True).astype(np.float32)
        self._mel_basis = _mel_filters()
        # torch sets up its LSTM kernels on the first forward pass: pay for that here, not in
        # the first request.
        self._forward(np.zeros((1, hparams.partials_n_frames, hparams.mel_n_channels), np.float32))

    def embed(self, audio: Audio) -> np.ndarray:
        """A unit-length float32 (256,) embedding of the speaker; AudioSilent if nobody speaks."""
        return self._embed_speech(_speech(audio))

    def embed_many(self, audios: Sequence[Audio]) -> np.ndarray:
        """One speaker's embedding from several clips, each weighted by its length of speech."""
        if not audios:
            raise ValueError("embed_many needs at least one clip")
        vectors, weights = [], []
        for number, audio in enumerate(audios, start=1):
            try:
                clip = _speech(audio)
            except AudioSilent as exc:
                raise AudioSilent(
                    f"Clip {number} of {len(audios)} contains no audible speech",
                    details={"clip": number - 1},
                ) from exc
            vectors.append(self._embed_speech(clip))
            weights.append(len(clip))
        return _unit(np.average(np.stack(vectors), axis=0, weights=weights))

    def _embed_speech(self, wav: np.ndarray) -> np.ndarray:
        """resemblyzer's embed_utterance, with the mel spectrogram computed here."""
        wav_slices, mel_slices = VoiceEncoder.compute_partial_slices(
            len(wav), _PARTIALS_PER_S, _MIN_COVERAGE
        )
        needed = wav_slices[-1].stop
        if needed >= len(wav):
            wav = np.pad(wav, (0, needed - len(wav)))
        mel = self._mel_spectrogram(wav)
        partials = self._forward(np.stack([mel[s] for s in mel_slices]))
        return _unit(partials.mean(axis=0))

    def _mel_spectrogram(self, wav: np.ndarray) -> np.ndarray:
        """Power mel spectrogram (frames, 40) equal to librosa.feature.melspectrogram's."""
        # Centred frames with zero padding, as librosa's stft(center=True, pad_mode="constant").
        padded = np.pad(wav, _N_FFT // 2)
        frames = np.lib.stride_tricks.sliding_window_view(padded, _N_FFT)[::_HOP]
        power = np.abs(np.fft.rfft(frames * self._window, axis=1)) ** 2
        return np.asarray(power @ self._mel_basis.T, dtype=np.float32)

    def _forward(self, mels: np.ndarray) -> np.ndarray:
        """Unit-length embeddings of a batch of (160, 40) mel partials."""
        with torch.inference_mode():
            result: np.ndarray = self._model(torch.from_numpy(mels)).numpy()
        return result


def _speech(audio: Audio) -> np.ndarray:
    """The clip as the encoder hears it: 16 kHz, quiet speech raised, long silences cut out."""
    samples = np.asarray(audio.samples, dtype=np.float32)
    if not np.all(np.isfinite(samples)):
        raise InvalidAudio("The audio contains non-finite samples")
    if audio.sample_rate != SAMPLE_RATE:
        # scipy's polyphase filter rather than librosa.resample: the first librosa call in a
        # process spends seconds (20 s with no numba cache) compiling librosa's numba kernels.
        samples = resample(samples, audio.sample_rate, SAMPLE_RATE)
    # Digital silence has no level to normalise, and the VAD needs one whole window to judge.
    if len(samples) < _VAD_WINDOW or not np.any(samples):
        raise AudioSilent()
    samples = normalize_volume(samples, hparams.audio_norm_target_dBFS, increase_only=True)
    # Raising a quiet clip can push peaks past full scale, where the VAD's int16 copy would wrap.
    samples = np.clip(samples, -1.0, 1.0)
    voiced = trim_long_silences(samples)
    if len(voiced) == 0:
        raise AudioSilent()
    return np.asarray(voiced, dtype=np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors: 1 for the same direction, 0 for orthogonal."""
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    norms = float(np.linalg.norm(x) * np.linalg.norm(y))
    if norms == 0.0:
        raise ValueError("cosine similarity is undefined for a zero vector")
    return float(np.dot(x, y) / norms)


def _unit(vector: np.ndarray) -> np.ndarray:
    return np.asarray(vector / np.linalg.norm(vector), dtype=np.float32)


def _mel_filters() -> np.ndarray:
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=40): triangles with Slaney's area norm."""
    fft_hz = np.fft.rfftfreq(_N_FFT, d=1.0 / SAMPLE_RATE)
    edges_mel = np.linspace(
        _hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), hparams.mel_n_channels + 2
    )
    edges_hz = np.array([_mel_to_hz(m) for m in edges_mel])
    widths = np.diff(edges_hz)
    ramps = edges_hz[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    return weights.astype(np.float32)


def _hz_to_mel(hz: float) -> float:
    if hz < _LOG_START_HZ:
        return hz / _HZ_PER_MEL
    return _LOG_START_MEL + math.log(hz / _LOG_START_HZ) / _LOG_STEP


def _mel_to_hz(mel: float) -> float:
    if mel < _LOG_START_MEL:
        return mel * _HZ_PER_MEL
    return _LOG_START_HZ * math.exp(_LOG_STEP * (mel - _LOG_START_MEL))
