"""XTTS benchmark: batched vs one-at-a-time throughput, padding check, streaming, on a random model.

Usage: .venv/bin/python loadtests/xtts_benchmark.py [--size tiny|full] [--tokens N]
       [--batches 1,2,4,8] [--service-levels 1,4,16] [--json PATH]

Real XTTS v2 weights cannot be fetched here, so the model is XTTS v2's real architecture with
random weights (tests/xtts_tiny.py; "full" is the shipped size: 30 GPT layers, 1024 channels)
and every sentence generates exactly ``--tokens`` GPT tokens (a random model never stops).
In this process, through voxify.engines.pool.EngineSet (the code an XttsSynthesizer replica
runs):

1. batched vs sequential: B different texts and voices rendered in turn vs in one
   ``render_many`` call (what ``@serve.batch`` hands a replica), audio seconds per second;
2. padding: the same batch decoded greedily vs each text alone: equal lengths and the largest
   sample difference (left padding is masked; right padding is coqui-ai/TTS#3776's artefact);
3. streaming at concurrency 1: time to the first chunk of ``EngineSet.stream`` vs a whole render,
   and the streamed RTF beside coqui's own ``inference_stream`` of the same sentence.

Then, with --service-levels, the whole service over HTTP (loadtests/stream_benchmark.py with the
XTTS pool): time to first audio p50/p95 and RTF, streamed vs whole, at each concurrency.
The device (GPU name, or CPU) is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.xtts_tiny import SPEAKERS, build_xtts  # noqa: E402
from voxify.engines.pool import EngineSet  # noqa: E402
from voxify.engines.xtts import XttsEngine, XttsItem  # noqa: E402
from voxify.speech import SynthesisRequest  # noqa: E402

# One sentence each (XTTS renders sentence by sentence), of different lengths so batches pad.
TEXTS = (
    "The old lighthouse keeper climbed the spiral stairs every evening to light the lamp.",
    "Fresh bread fills the street with a warm smell.",
    "After three days of heavy rain, the river finally burst its banks and flooded the low "
    "fields near the village.",
    "Please water the tomato plants twice a week.",
    "Modern trains travel between the two cities in under an hour, which makes commuting easier.",
    "She packed a map, a flashlight and two sandwiches.",
    "The museum's new exhibition explores how ancient sailors used the stars to cross the sea.",
    "Our team reviewed the results and decided to invest more in research.",
)


def device_name() -> str:
    if torch.cuda.is_available():
        return (
            f"{torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda}, "
            f"torch {torch.__version__})"
        )
    return (
        f"CPU ({os.cpu_count()} cores, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__})"
    )


def request(index: int) -> SynthesisRequest:
    return SynthesisRequest(
        text=TEXTS[index % len(TEXTS)],
        voice_id="xtts_bench",
        language="en",
        engine="xtts",
        speaker=SPEAKERS[index % len(SPEAKERS)],
    )


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def batching(engines: EngineSet, sizes: Sequence[int], repeats: int) -> dict[str, Any]:
    """Audio seconds per wall second, B requests in turn vs in one render_many call."""
    results: dict[str, Any] = {}
    for size in sizes:
        requests = [request(i) for i in range(size)]
        timings: dict[str, list[float]] = {"sequential": [], "batched": []}
        audio_s = 0.0
        for _ in range(repeats):
            sync()
            began = time.perf_counter()
            audios = [engines.render(r) for r in requests]
            sync()
            timings["sequential"].append(time.perf_counter() - began)
            audio_s = sum(a.duration for a in audios)
            began = time.perf_counter()
            engines.render_many(requests)
            sync()
            timings["batched"].append(time.perf_counter() - began)
        sequential = statistics.median(timings["sequential"])
        batched = statistics.median(timings["batched"])
        results[str(size)] = {
            "audio_s": audio_s,
            "sequential_s": sequential,
            "batched_s": batched,
            "sequential_audio_s_per_s": audio_s / sequential,
            "batched_audio_s_per_s": audio_s / batched,
            "speedup": sequential / batched,
        }
        print(
            f"batch {size}: sequential {sequential:.2f} s, batched {batched:.2f} s for "
            f"{audio_s:.1f} s of audio -> {sequential / batched:.2f}x",
            flush=True,
        )
    return results


def padding_check(model_dir: Path, tokens: int, size: int) -> dict[str, Any]:
    """Greedy decoding: a batch of texts of different lengths vs each text alone."""
    engine = XttsEngine(model_dir, max_new_tokens=tokens, greedy=True)
    items = [XttsItem(TEXTS[i], "en", speaker=SPEAKERS[i % len(SPEAKERS)]) for i in range(size)]
    batched = engine.synthesize_batch(items)
    alone = [engine.synthesize(i.text, language=i.language, speaker=i.speaker) for i in items]
    same_length = all(len(b.samples) == len(a.samples) for a, b in zip(alone, batched, strict=True))
    diff = max(
        float(np.abs(b.samples - a.samples).max()) if same_length else float("inf")
        for a, b in zip(alone, batched, strict=True)
    )
    peak = max(float(np.abs(a.samples).max()) for a in alone)
    # Not vacuous only if the texts and voices really give different speech.
    distinct = len({a.samples.round(4).tobytes() for a in alone})
    print(
        f"padding check (batch {size}, greedy): same lengths {same_length}, largest sample "
        f"difference {diff:.2e} (peak {peak:.2f}); {distinct} of {size} outputs distinct",
        flush=True,
    )
    return {
        "batch": size,
        "same_length": same_length,
        "max_abs_diff": diff,
        "peak": peak,
        "distinct": distinct,
    }


def streaming(engines: EngineSet, repeats: int) -> dict[str, float]:
    """Concurrency 1, in process: first streamed chunk vs a whole render of the same text, and
    the whole stream's RTF beside coqui's own ``inference_stream`` of the same sentence (which
    decodes every latent so far at each chunk)."""
    xtts = engines.xtts
    assert xtts is not None
    options = {k: v for k, v in xtts._generate.items() if k != "num_beams"}  # it sets 1
    first, streamed, coqui, whole, seconds = [], [], [], [], []
    for index in range(repeats):
        req = request(index)
        began = time.perf_counter()
        chunks = engines.stream(req)
        samples = len(next(chunks).audio.samples)
        first.append(time.perf_counter() - began)
        samples += sum(len(chunk.audio.samples) for chunk in chunks)
        sync()
        streamed.append(time.perf_counter() - began)
        seconds.append(samples / xtts.sample_rate)
        latent, embedding = xtts._voice(None, req.speaker)
        began = time.perf_counter()
        for _ in xtts._model.inference_stream(
            req.text, req.language, latent, embedding, stream_chunk_size=20, **options
        ):
            pass
        sync()
        coqui.append(time.perf_counter() - began)
        began = time.perf_counter()
        engines.render(req)
        sync()
        whole.append(time.perf_counter() - began)
    audio_s = statistics.median(seconds)
    result = {
        "first_chunk_p50_ms": 1000 * statistics.median(first),
        "whole_p50_ms": 1000 * statistics.median(whole),
        "rtf_whole": statistics.median(whole) / audio_s,
        "rtf_streamed": statistics.median(streamed) / audio_s,
        "rtf_coqui_inference_stream": statistics.median(coqui) / audio_s,
    }
    print(
        f"in-process, concurrency 1: first streamed chunk {result['first_chunk_p50_ms']:.0f} ms"
        f", whole render {result['whole_p50_ms']:.0f} ms; RTF whole {result['rtf_whole']:.3f}"
        f", streamed {result['rtf_streamed']:.3f}, coqui inference_stream "
        f"{result['rtf_coqui_inference_stream']:.3f}",
        flush=True,
    )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("tiny", "full"), default="full")
    parser.add_argument(
        "--tokens", type=int, default=60, help="GPT tokens per sentence (60 ~ 2.8 s of speech)"
    )
    parser.add_argument("--batches", default="1,2,4,8")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--service-levels",
        default="",
        help="also run the service benchmark at these concurrencies, e.g. 1,4,16",
    )
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="reuse a model built earlier (default: build one in a temp dir)",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.batches.split(",")]
    results: dict[str, Any] = {"device": device_name(), "size": args.size, "tokens": args.tokens}
    print(
        f"device: {results['device']}; model: random XTTS v2, {args.size} size; "
        f"{args.tokens} tokens per sentence",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="voxify-xtts-bench-") as tmp:
        model_dir = args.model_dir or Path(tmp) / "model"
        if not (model_dir / "model.pth").exists():
            began = time.perf_counter()
            build_xtts(model_dir, size=args.size)
            print(f"built the model in {time.perf_counter() - began:.0f} s", flush=True)
        engines = EngineSet(None, XttsEngine(model_dir, max_new_tokens=args.tokens))
        engines.render_many([request(0), request(1)])  # warm-up (CUDA kernels, allocator)
        results["batching"] = batching(engines, sizes, args.repeats)
        results["streaming_in_process"] = streaming(engines, args.repeats + 1)
        results["padding"] = padding_check(model_dir, args.tokens, max(sizes))
        del engines
        if args.service_levels:
            service_json = Path(tmp) / "service.json"
            command = [
                sys.executable,
                str(ROOT / "loadtests" / "stream_benchmark.py"),
                "--levels",
                args.service_levels,
                "--json",
                str(service_json),
                "--xtts-model-dir",
                str(model_dir),
                "--xtts-tokens",
                str(args.tokens),
                "--xtts-gpus",
                "0.5" if torch.cuda.is_available() else "0",
            ]
            subprocess.run(command, check=True)
            results["service"] = json.loads(service_json.read_text())
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def report(results: dict[str, Any]) -> None:
    print(
        f"\nXTTS v2 ({results['size']} size, random weights, {results['tokens']} tokens per "
        f"sentence) on {results['device']}"
    )
    print(f"{'batch':>5} {'sequential audio s/s':>21} {'batched audio s/s':>18} {'speedup':>8}")
    for size, row in results["batching"].items():
        print(
            f"{size:>5} {row['sequential_audio_s_per_s']:>21.2f} "
            f"{row['batched_audio_s_per_s']:>18.2f} {row['speedup']:>7.2f}x"
        )
    pad = results["padding"]
    verdict = "clean" if pad["same_length"] and pad["max_abs_diff"] < 1e-3 else "ARTEFACTS"
    print(
        f"Padding: batch of {pad['batch']} vs alone (greedy): {verdict} "
        f"(largest difference {pad['max_abs_diff']:.1e}; {pad['distinct']} distinct outputs)"
    )
    stream = results["streaming_in_process"]
    print(
        f"In process, concurrency 1: first chunk {stream['first_chunk_p50_ms']:.0f} ms vs "
        f"whole {stream['whole_p50_ms']:.0f} ms (p50); RTF whole {stream['rtf_whole']:.3f}, "
        f"streamed {stream['rtf_streamed']:.3f} (coqui's inference_stream "
        f"{stream['rtf_coqui_inference_stream']:.3f}: "
        f"{stream['rtf_coqui_inference_stream'] / stream['rtf_streamed']:.2f}x ours)"
    )


if __name__ == "__main__":
    sys.exit(main())
