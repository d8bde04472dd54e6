"""Streaming benchmark: time to first audio and real-time factor, streamed vs whole, over HTTP.

Usage: .venv/bin/python loadtests/stream_benchmark.py [--levels 1,4,16] [--requests N]
       [--json PATH] [--voice VOICE_ID] [--xtts-model-dir DIR --xtts-tokens N --xtts-gpus G]

Starts one `voxify serve` (the shipped serve_config.yaml, Piper), then at each concurrency
level sends ~300-character texts both ways: streamed (POST /api/v1/tts/stream, chunked WAV:
time to first audio = the first PCM bytes after the header) and whole (POST /tts/synthesize,
then download: time to first audio = the first byte of the download). Also in this process,
side by side: the raw engine on the same texts (whole text, first sentence, first streamed
piece). With --voice kokoro_<name> every request speaks with that Kokoro voice, and the raw
floor is Kokoro's.
With --xtts-model-dir the service also runs the XTTS pool and every request speaks with the
studio speaker ``xtts_studio_speaker_a`` (loadtests/xtts_benchmark.py drives this mode with a
randomly initialised model; the raw-Piper floor is then skipped). This process never imports ray.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

from bench.client import PASSWORD  # noqa: E402
from bench.service import services  # noqa: E402

from voxify.client import Client  # noqa: E402
from voxify.config import Settings  # noqa: E402
from voxify.engines.kokoro import KokoroEngine  # noqa: E402
from voxify.engines.piper import PiperEngine  # noqa: E402
from voxify.speech import Audio  # noqa: E402
from voxify.text import stream_pieces  # noqa: E402

TEXTS = (
    "Streaming speech should start quickly, because listeners notice any delay before the "
    "first word. The service renders the opening clause on its own, then whole sentences; "
    "each one arrives while the previous one is still playing. Long sentences are cut at "
    "commas, and nothing is ever cut inside a word.",
    "The old lighthouse keeper climbed the spiral stairs every evening to light the lamp. "
    "Ships far out at sea could see its beam for miles, even through fog and rain. In the "
    "morning he polished the great lens, trimmed the wick, and wrote the weather in a "
    "leather logbook that was older than he was.",
    "Fresh bread from the corner bakery fills the whole street with a warm smell long before "
    "the shops open. By seven there is a queue outside, and by nine the shelves are nearly "
    "empty. The baker says the secret is patience: the dough rests overnight in a cool room "
    "and is shaped by hand at dawn.",
    "After three days of heavy rain, the river finally burst its banks and flooded the low "
    "fields near the village. Farmers moved their animals to higher ground, and volunteers "
    "filled sandbags until midnight. By Sunday the water had gone down, leaving a thin layer "
    "of mud on every road and garden.",
)
TTFA_TARGET_S = 0.150
WARMUP = 3
WAV_HEADER = 44


@dataclass
class Sample:
    """One request: seconds to first audio, to the end, and of audio received."""

    ttfa_s: float
    total_s: float
    audio_s: float


class User:
    """One signed-up account with its own connection (voxify.client)."""

    def __init__(self, url: str, index: int, voice: dict[str, str] | None = None) -> None:
        self.voice = voice or {}  # voice_id and language of every request; {} = the preset
        self.client = Client(url, timeout=300, max_retries=0)
        email = f"stream-bench-{index}-{time.time_ns()}@example.com"
        self.client.register(email, PASSWORD, "Stream", "Bench")
        self.client.login(email, PASSWORD)

    def streamed(self, text: str) -> Sample:
        started = time.perf_counter()
        first = None
        head = b""
        received = 0
        for part in self.client.stream(text, format="wav", **self.voice):
            received += len(part)
            head = head if len(head) >= WAV_HEADER else (head + part)[:WAV_HEADER]
            if first is None and received > WAV_HEADER:
                first = time.perf_counter() - started
        total = time.perf_counter() - started
        rate = struct.unpack("<I", head[24:28])[0]
        return Sample(first or total, total, (received - WAV_HEADER) / 2 / rate)

    def whole(self, text: str) -> Sample:
        started = time.perf_counter()
        info = self.client.speak(text, **self.voice)
        self.client.download(info["file_id"])
        total = time.perf_counter() - started
        return Sample(total, total, float(info["duration"]))


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarise(samples: list[Sample], wall_s: float) -> dict[str, float]:
    ttfa = [s.ttfa_s for s in samples]
    rtf = [s.total_s / s.audio_s for s in samples]
    return {
        "n": len(samples),
        "ttfa_p50_ms": 1000 * statistics.median(ttfa),
        "ttfa_p95_ms": 1000 * percentile(ttfa, 0.95),
        "total_p50_s": statistics.median(s.total_s for s in samples),
        "rtf_p50": statistics.median(rtf),
        "rtf_p95": percentile(rtf, 0.95),
        "throughput_audio_s_per_s": sum(s.audio_s for s in samples) / wall_s,
    }


def run_level(users: list[User], mode: str, requests: int) -> dict[str, float]:
    """``requests`` requests spread over ``len(users)`` concurrent users."""
    lock = threading.Lock()
    samples: list[Sample] = []
    counter = iter(range(requests))

    def worker(user: User) -> None:
        call: Callable[[str], Sample] = user.streamed if mode == "streamed" else user.whole
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            sample = call(TEXTS[index % len(TEXTS)])
            with lock:
                samples.append(sample)

    started = time.perf_counter()
    with ThreadPoolExecutor(len(users)) as pool:
        list(pool.map(worker, users))
    return summarise(samples, time.perf_counter() - started)


def raw_engine(repeats: int, voice_id: str | None) -> dict[str, float]:
    """The voice's engine in this process, one call at a time: the floor the service is
    measured against (Piper, or Kokoro for a kokoro_ voice)."""
    speak: Callable[[str], Audio]
    if voice_id and voice_id.startswith("kokoro_"):
        kokoro = KokoroEngine.open(Settings().kokoro_dir)
        assert kokoro is not None, "run `voxify setup` first"
        pack = ((voice_id.removeprefix("kokoro_"), 1.0),)

        def speak(text: str) -> Audio:
            return kokoro.synthesize(text, voice=pack)
    else:
        speak = PiperEngine().synthesize
    return _raw(speak, repeats)


def _raw(speak: Callable[[str], Audio], repeats: int) -> dict[str, float]:
    speak("Warm up the engine.")
    whole, first_sentence, first_piece, rtf = [], [], [], []
    for index in range(repeats):
        text = TEXTS[index % len(TEXTS)]
        for target, piece in (
            (first_sentence, re.split(r"(?<=[.!?;])\s+", text)[0]),
            (first_piece, stream_pieces(text)[0].text),
        ):
            began = time.perf_counter()
            speak(piece)
            target.append(time.perf_counter() - began)
        began = time.perf_counter()
        audio = speak(text)
        elapsed = time.perf_counter() - began
        whole.append(elapsed)
        rtf.append(elapsed / audio.duration)
    return {
        "whole_p50_ms": 1000 * statistics.median(whole),
        "first_sentence_p50_ms": 1000 * statistics.median(first_sentence),
        "first_piece_p50_ms": 1000 * statistics.median(first_piece),
        "rtf_p50": statistics.median(rtf),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,4,16")
    parser.add_argument(
        "--requests",
        type=int,
        default=0,
        help="requests per level and mode (default: max(12, 3 x level))",
    )
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--voice", default=None, help="speak with this voice (e.g. kokoro_af_heart)"
    )
    parser.add_argument(
        "--xtts-model-dir",
        type=Path,
        default=None,
        help="also run the XTTS pool on this model; speak with its studio voice",
    )
    parser.add_argument(
        "--xtts-tokens",
        type=int,
        default=0,
        help="fixed GPT tokens per sentence (for randomly initialised models)",
    )
    parser.add_argument(
        "--xtts-gpus",
        type=float,
        default=0.5,
        help="num_gpus of each XTTS replica where there is a GPU",
    )
    args = parser.parse_args(argv)
    levels = [int(level) for level in args.levels.split(",")]
    results: dict[str, Any] = {"text_chars": [len(t) for t in TEXTS], "levels": {}}
    voice: dict[str, str] = {"voice_id": args.voice} if args.voice else {}
    if args.voice and args.voice.startswith("kokoro_"):
        results["engine"] = "kokoro"
    overrides: dict[str, dict[str, Any]] = {}
    if args.xtts_model_dir is not None:
        os.environ["VOXIFY_XTTS_MODEL_DIR"] = str(args.xtts_model_dir.resolve())
        if args.xtts_tokens:
            os.environ["VOXIFY_XTTS_MAX_NEW_TOKENS"] = str(args.xtts_tokens)
        voice = {"voice_id": "xtts_studio_speaker_a", "language": "en"}
        if args.xtts_gpus:  # without a GPU `voxify serve` runs one CPU replica by itself
            overrides["XttsSynthesizer"] = {"ray_actor_options": {"num_gpus": args.xtts_gpus}}
        results["engine"] = "xtts"
    with (
        tempfile.TemporaryDirectory(prefix="voxify-stream-bench-") as tmp,
        services(["unbatched"], Path(tmp), overrides) as running,
    ):
        url = running["unbatched"].url
        users = [User(url, index, voice) for index in range(max(levels))]
        for user in users[:2]:
            for _ in range(WARMUP):
                user.streamed(TEXTS[0])
                user.whole(TEXTS[0])
        if args.xtts_model_dir is None:
            results["raw_engine"] = raw_engine(repeats=12, voice_id=args.voice)
            results["voice"] = args.voice or "default_voice_001"
        for level in levels:
            requests = args.requests or max(12, 3 * level)
            for mode in ("streamed", "whole"):
                summary = run_level(users[:level], mode, requests)
                results["levels"].setdefault(str(level), {})[mode] = summary
                print(
                    f"c={level:<3} {mode:<9} "
                    + " ".join(f"{k}={v:.3f}" for k, v in summary.items()),
                    flush=True,
                )
        for user in users:
            user.client.close()
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def report(results: dict[str, Any]) -> None:
    print(
        f"\nEngine: {results.get('engine', 'piper')}, voice {results.get('voice')}; texts: "
        f"{results['text_chars']} characters"
    )
    raw = results.get("raw_engine")
    if raw is not None:
        print(
            f"Raw engine in-process: whole text {raw['whole_p50_ms']:.0f} ms (RTF "
            f"{raw['rtf_p50']:.3f}), first sentence {raw['first_sentence_p50_ms']:.0f} ms, "
            f"first streamed piece {raw['first_piece_p50_ms']:.0f} ms (p50)"
        )
    print(
        f"{'conc':>4} {'mode':<9} {'TTFA p50':>9} {'TTFA p95':>9} {'RTF p50':>8} "
        f"{'RTF p95':>8} {'audio s/s':>9}"
    )
    for level, modes in results["levels"].items():
        for mode, s in modes.items():
            print(
                f"{level:>4} {mode:<9} {s['ttfa_p50_ms']:>7.0f}ms {s['ttfa_p95_ms']:>7.0f}ms "
                f"{s['rtf_p50']:>8.3f} {s['rtf_p95']:>8.3f} "
                f"{s['throughput_audio_s_per_s']:>9.1f}"
            )
        ratio = modes["whole"]["ttfa_p50_ms"] / modes["streamed"]["ttfa_p50_ms"]
        print(f"{'':>4} streaming reaches first audio {ratio:.1f}x sooner (p50)")
    one = results["levels"].get("1", {}).get("streamed")
    if one is not None and raw is not None:  # the target is Piper's
        verdict = "met" if one["ttfa_p50_ms"] <= TTFA_TARGET_S * 1000 else "NOT met"
        print(
            f"Target TTFA p50 <= {TTFA_TARGET_S * 1000:.0f} ms at concurrency 1: {verdict} "
            f"({one['ttfa_p50_ms']:.0f} ms)"
        )


if __name__ == "__main__":
    sys.exit(main())
