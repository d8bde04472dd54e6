"""Kokoro-82M (StyleTTS2-style, int8 ONNX): 54 voices, blends of them, fitted clone styles.

A voice is a pack of 510 style vectors, one per phoneme count; a blend mixes packs with
weights. Phonemes come from espeak-ng (Piper's bridge), with English spelled the way Kokoro
was trained (misaki's symbols for diphthongs and affricates). Text is cut at clause ends
into pieces within the model's 510-token window.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

from voxify.engines.kokoro_assets import PACK_ROWS, KokoroFiles, vocab
from voxify.engines.languages import espeak_voice
from voxify.speech import Audio
from voxify.voices.blends import Blend

SAMPLE_RATE = 24000
MAX_TOKENS = 500  # per model call; the packs index styles by count up to 509
PIECE_TOKENS = 250  # sentences are grouped into calls of about this many phonemes
MIN_SPEED, MAX_SPEED = 0.5, 2.0
STYLE_CACHE = 64  # blends whose mixed packs a process keeps
# espeak's IPA -> the symbols Kokoro's English voices learned (misaki), longest first.
_ENGLISH = (
    ("ʔn̩", "tᵊn"),
    ("aɪ", "I"),
    ("aʊ", "W"),
    ("eɪ", "A"),
    ("ɔɪ", "Y"),
    ("dʒ", "ʤ"),
    ("tʃ", "ʧ"),
    ("ɚ", "əɹ"),
    ("ɝ", "ɜɹ"),
    ("r", "ɹ"),
    ("x", "k"),
    ("ç", "k"),
    ("ɬ", "l"),
    ("ʔ", "t"),
    ("ʲ", ""),
)
_AMERICAN = (("oʊ", "O"), ("ɜː", "ɜɹ"), ("ɾ", "T"), ("ː", ""), ("ɐ", "ə"))
_BRITISH = (("əʊ", "Q"), ("eə", "ɛː"))
_CLAUSE_END = re.compile(r"(?<=[.!?;:,—…])\s+")


class KokoroEngine:
    """Kokoro on onnxruntime; every call names its voice (a blend of packs)."""

    name: str = "kokoro"
    sample_rate: int = SAMPLE_RATE

    def __init__(
        self,
        files: KokoroFiles,
        *,
        intra_op_threads: int = 0,
        providers: Sequence[str] = ("CPUExecutionProvider",),
    ) -> None:
        from piper import espeakbridge
        from piper import voice as piper_voice
        from piper.phonemize_espeak import ESPEAK_DATA_DIR

        self.files = files
        self.voices = tuple(files.voice_names())
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(files.model), sess_options=options, providers=list(providers)
        )
        self._vocab = vocab()
        self._packs: dict[str, np.ndarray] = {}
        self._styles: OrderedDict[Blend, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._espeak = espeakbridge
        # espeak-ng is one global state per process, which Piper's voices use too: take the
        # lock Piper takes, so that a Piper voice and a Kokoro voice never interleave there.
        self._espeak_lock: threading.Lock = piper_voice._ESPEAK_PHONEMIZER_LOCK
        with self._espeak_lock:
            espeakbridge.initialize(str(ESPEAK_DATA_DIR))

    @classmethod
    def open(
        cls,
        root: Path,
        *,
        intra_op_threads: int = 0,
        providers: Sequence[str] = ("CPUExecutionProvider",),
    ) -> KokoroEngine | None:
        """The engine over ``root``, or None where `voxify setup` has not put the files."""
        files = KokoroFiles(root)
        if not files.ready():
            return None
        return cls(files, intra_op_threads=intra_op_threads, providers=providers)

    def with_threads(self, intra_op_threads: int) -> KokoroEngine:
        """The same files and providers on a session with this many threads (0: per core)."""
        return KokoroEngine(
            self.files,
            intra_op_threads=intra_op_threads,
            providers=self._session.get_providers(),
        )

    def synthesize(
        self, text: str, *, voice: Blend, language: str = "en-US", speed: float = 1.0
    ) -> Audio:
        """Speak the whole text in ``voice``: one model call per group of sentences."""
        clips = [
            audio.samples
            for audio in self.iter_pieces(text, voice=voice, language=language, speed=speed)
        ]
        return Audio(np.concatenate(clips), SAMPLE_RATE)

    def iter_pieces(
        self, text: str, *, voice: Blend, language: str = "en-US", speed: float = 1.0
    ) -> Iterator[Audio]:
        """Speak the text a piece (about PIECE_TOKENS phonemes) at a time; bad input raises
        here, before any audio."""
        speed = _check_speed(speed)
        pieces = self.tokens(text, language)
        style = self.style(voice)

        def generate() -> Iterator[Audio]:
            for tokens in pieces:
                yield Audio(self._infer(tokens, style, speed), SAMPLE_RATE)

        return generate()

    def render_style(
        self, text: str, style: np.ndarray, *, language: str = "en-US", speed: float = 1.0
    ) -> Audio:
        """Speak with a raw [510, 256] style pack (a clone search's candidate)."""
        clips = [self._infer(t, style, _check_speed(speed)) for t in self.tokens(text, language)]
        return Audio(np.concatenate(clips), SAMPLE_RATE)

    def tokens(self, text: str, language: str) -> list[list[int]]:
        """Token ids per model call: clauses grouped up to PIECE_TOKENS, never over
        MAX_TOKENS (a longer clause is cut between words)."""
        phonemes = self.phonemes(text, language)
        pieces: list[list[int]] = []
        current: list[int] = []
        for clause in _CLAUSE_END.split(phonemes):
            ids = self._ids(clause)
            for part in _fit(ids, self._vocab[" "]):
                if current and len(current) + 1 + len(part) > PIECE_TOKENS:
                    pieces.append(current)
                    current = []
                current = [*current, self._vocab[" "], *part] if current else list(part)
        if current:
            pieces.append(current)
        pieces = [p for p in pieces if any(i != self._vocab[" "] for i in p)]
        if not pieces:
            raise ValueError("no speakable text")
        return pieces

    def phonemes(self, text: str, language: str) -> str:
        """The text as Kokoro phonemes (espeak-ng IPA; misaki's symbols for English)."""
        espeak = espeak_voice(language)
        if espeak is None:
            raise ValueError(f"Kokoro cannot phonemize '{language}' here")
        with self._espeak_lock:
            self._espeak.set_voice(espeak)
            clauses = self._espeak.get_phonemes(text)
        spoken = " ".join(
            re.sub(r"\([^)]+\)", "", phonemes) + terminator for phonemes, terminator, _ in clauses
        )
        spoken = unicodedata.normalize("NFC", spoken)
        if espeak.startswith("en"):
            for old, new in _ENGLISH + (_AMERICAN if espeak == "en-us" else _BRITISH):
                spoken = spoken.replace(old, new)
        return spoken.strip()

    def style(self, voice: Blend) -> np.ndarray:
        """The [510, 256] pack of a blend (cached)."""
        with self._lock:
            cached = self._styles.get(voice)
            if cached is not None:
                self._styles.move_to_end(voice)
                return cached
        mixed = np.zeros((PACK_ROWS, 256), dtype=np.float32)
        for name, weight in voice:
            mixed += np.float32(weight) * self.pack(name)
        with self._lock:
            self._styles[voice] = mixed
            while len(self._styles) > STYLE_CACHE:
                self._styles.popitem(last=False)
        return mixed

    def pack(self, name: str) -> np.ndarray:
        """One stock voice pack."""
        pack = self._packs.get(name)
        if pack is None:
            if name not in self.voices:
                raise ValueError(f"unknown Kokoro voice '{name}'")
            pack = self._packs[name] = self.files.pack(name)
        return pack

    def _ids(self, phonemes: str) -> list[int]:
        ids: list[int] = []
        for char in phonemes:
            token = self._vocab.get(char)
            if token is not None:
                ids.append(token)
                continue
            # A precomposed letter the vocabulary lacks (õ): its base and combining marks.
            ids += [self._vocab[c] for c in unicodedata.normalize("NFD", char) if c in self._vocab]
        return ids

    def _infer(self, tokens: Sequence[int], style: np.ndarray, speed: float) -> np.ndarray:
        feeds = {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": style[min(len(tokens), PACK_ROWS - 1)][None, :].astype(np.float32),
            "speed": np.array([speed], dtype=np.float32),
        }
        (audio,) = self._session.run(["audio"], feeds)
        return np.asarray(audio, dtype=np.float32).reshape(-1)


def _fit(ids: list[int], space: int) -> Iterator[list[int]]:
    """A clause's ids in parts of at most MAX_TOKENS, cut at the last space before the limit."""
    while len(ids) > MAX_TOKENS:
        window = ids[:MAX_TOKENS]
        cut = len(window) - window[::-1].index(space) if space in window else MAX_TOKENS
        yield ids[: cut - 1] if ids[cut - 1] == space else ids[:cut]
        ids = ids[cut:]
    if ids:
        yield ids


def _check_speed(speed: float) -> float:
    if not (np.isfinite(speed) and MIN_SPEED <= speed <= MAX_SPEED):
        raise ValueError(f"speed must be between {MIN_SPEED} and {MAX_SPEED}, got {speed}")
    return float(speed)
