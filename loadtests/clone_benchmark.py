"""Clone benchmark: clone each speaker through the public API, per engine, and measure how
alike, how intelligible and how natural the clones sound.

Usage: .venv/bin/python loadtests/clone_benchmark.py [--speech-dir DIR] [--search-s S] [--json PATH]

For every recording in the speech directory (default: ../shared/data/speech, else the test
fixtures): upload it, process it, then train two clones from it side by side: "world" (today's
CPU clone: Piper + WORLD conversion, config engines=["piper"]) and "auto" (every engine the
deployment has: the Kokoro style search, Kokoro + WORLD and Piper + WORLD, the best on held-out
audio kept). Each clone and the stock voices speak fixed sentences over HTTP. Per clone:
speaker similarity (resemblyzer cosine) to the recording and to the speaker's other recordings
(held out), word error rate (Whisper tiny.en), DNSMOS P.808 against the stock voice it started
from, training time. The service runs as its own `voxify serve` session; this process never
imports ray.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

from bench.client import PASSWORD  # noqa: E402
from bench.quality import Naturalness, Transcriber, word_errors  # noqa: E402
from bench.service import services  # noqa: E402

from voxify.audio.analysis import decode  # noqa: E402
from voxify.client import Client, JobFailed  # noqa: E402
from voxify.embeddings.encoder import SpeakerEncoder, cosine  # noqa: E402
from voxify.speech import Audio  # noqa: E402

REPO = _HERE.parent
DEFAULT_SPEECH = [
    REPO.parent / "shared" / "data" / "speech",
    REPO / "tests" / "fixtures" / "speech",
]
SENTENCES = (
    "The old lighthouse keeper climbed the spiral stairs every evening to light the lamp.",
    "Fresh bread from the corner bakery fills the whole street with a warm smell.",
    "Please remember to water the tomato plants on the balcony twice a week.",
)
VARIANTS = {"world": {"engines": ["piper"]}, "auto": {}}
TARGETS = {"mean_similarity": 0.80, "min_similarity": 0.75, "wer": 0.05, "mos_drop": 0.2}
# Three of the six recordings hold 2.5-3 s of speech, under the service's default minimum of
# 3 s; the benchmark's service accepts 2 s so that every speaker can be cloned.
MIN_SPEECH_S = "2.0"


@dataclass
class Spoken:
    """One voice speaking the sentences: how alike, intelligible and natural it sounds."""

    voice_id: str
    similarity: float  # to the cloned recording
    heldout: float | None  # to the speaker's other recordings
    wer: float
    mos: float
    rtf: float


@dataclass
class CloneResult:
    recording: str
    speaker: str
    variant: str
    engine: str = ""
    chosen: str = ""
    train_s: float = 0.0
    spoken: Spoken | None = None
    stock: Spoken | None = None  # the stock voice the clone started from
    fit: dict[str, Any] = field(default_factory=dict)

    @property
    def score(self) -> float:
        """Held-out similarity where the speaker has other recordings, else to the recording."""
        assert self.spoken is not None
        held = self.spoken.heldout
        return self.spoken.similarity if held is None else held


class Api:
    """One account on the service (voxify.client), timing what a user would wait for."""

    def __init__(self, url: str) -> None:
        self.client = Client(url, timeout=600, max_retries=0)
        email = f"clone-bench-{time.time_ns()}@example.com"
        self.client.register(email, PASSWORD, "Clone", "Bench")
        self.client.login(email, PASSWORD)

    def speak(self, text: str, voice_id: str) -> tuple[Audio, float]:
        """Synthesize over HTTP and download; returns the audio and the wall time."""
        started = time.perf_counter()
        speech = self.client.synthesize(text, voice_id=voice_id)
        return decode(speech.audio), time.perf_counter() - started


def speaker_of(path: Path) -> str:
    """Recordings named like librivox_male_0870 share a speaker: the name minus the number."""
    return re.sub(r"_?[a-z]?\d+$", "", path.stem)


class Judge:
    """Every measure of one voice's sentences against one speaker's recordings."""

    def __init__(self, recordings: list[Path]) -> None:
        self.encoder = SpeakerEncoder()
        self.references = {p.name: self.encoder.embed(decode(p.read_bytes())) for p in recordings}
        self.recordings = recordings
        self.transcribe = Transcriber()
        self.naturalness = Naturalness()

    def __call__(self, api: Api, voice_id: str, recording: Path) -> Spoken:
        spoken = [api.speak(text, voice_id) for text in SENTENCES]
        audio = Audio(np.concatenate([a.samples for a, _ in spoken]), spoken[0][0].sample_rate)
        vector = self.encoder.embed(audio)
        others = [
            p.name
            for p in self.recordings
            if p != recording and speaker_of(p) == speaker_of(recording)
        ]
        errors = [
            word_errors(text, self.transcribe(audio))
            for text, (audio, _) in zip(SENTENCES, spoken, strict=True)
        ]
        return Spoken(
            voice_id=voice_id,
            similarity=round(cosine(self.references[recording.name], vector), 4),
            heldout=round(float(np.mean([cosine(self.references[o], vector) for o in others])), 4)
            if others
            else None,
            wer=round(sum(e for e, _ in errors) / sum(n for _, n in errors), 4),
            mos=round(float(np.mean([self.naturalness(a) for a, _ in spoken])), 3),
            rtf=round(sum(t for _, t in spoken) / audio.duration, 4),
        )


def run(speech_dir: Path, search_s: float) -> dict[str, Any]:
    """Clone every recording with each variant and measure; returns the JSON report."""
    recordings = sorted(speech_dir.glob("*.wav"))
    judge = Judge(recordings)
    results: list[CloneResult] = []
    with (
        tempfile.TemporaryDirectory(prefix="voxify-clone-bench-") as workdir,
        services(["unbatched"], Path(workdir)) as started,
    ):
        api = Api(started["unbatched"].url)
        api.speak("Warm up the pools.", "default_voice_001")
        api.speak("Warm up the pools.", "kokoro_af_heart")
        stock: dict[tuple[str, str], Spoken] = {}
        for path in recordings:
            print(f"[{path.name}] upload, process ...", flush=True)
            sample = api.client.upload_sample(path, name=path.stem)
            processed = api.client.process_sample(sample["sample_id"])
            assert processed["status"] == "ready", processed
            for variant, config in VARIANTS.items():
                result = _clone(api, judge, path, sample["sample_id"], variant, config, search_s)
                start = (result.fit.get("search") or {}).get("nearest")
                stock_id = f"kokoro_{start[0][0]}" if start else "default_voice_001"
                if (stock_id, path.name) not in stock:
                    stock[stock_id, path.name] = judge(api, stock_id, path)
                result.stock = stock[stock_id, path.name]
                results.append(result)
                assert result.spoken is not None
                print(
                    f"[{path.name}] {variant:<5} {result.chosen:<13} similarity "
                    f"{result.score:.3f} (stock {_score(result.stock):.3f}) "
                    f"WER {result.spoken.wer:.3f} MOS {result.spoken.mos:.2f} "
                    f"(stock {result.stock.mos:.2f}) trained in {result.train_s} s",
                    flush=True,
                )
    return {"search_s": search_s, "clones": [asdict(r) | {"score": r.score} for r in results]}


def _clone(
    api: Api,
    judge: Judge,
    path: Path,
    sample_id: str,
    variant: str,
    config: dict[str, Any],
    search_s: float,
) -> CloneResult:
    result = CloneResult(recording=path.name, speaker=speaker_of(path), variant=variant)
    started_at = time.perf_counter()
    try:
        trained = api.client.create_clone(
            [sample_id], f"{path.stem} {variant}", config={**config, "search_s": search_s}
        )
    except JobFailed as exc:
        raise RuntimeError(f"{variant} clone of {path.name} failed: {exc}") from exc
    result.train_s = round(time.perf_counter() - started_at, 1)
    result.engine = trained["engine"]
    result.fit = trained["config"].get("fit", {})
    result.chosen = result.fit.get("chosen", result.engine)
    result.spoken = judge(api, trained["clone_id"], path)
    return result


def _score(spoken: Spoken) -> float:
    return spoken.similarity if spoken.heldout is None else spoken.heldout


def report(data: dict[str, Any]) -> str:
    """The per-clone table, then per variant the means against the targets."""
    rows = data["clones"]
    lines = [
        f"{'recording':<28} {'variant':<6} {'chosen':<13} {'sim':>6} {'stock':>6} {'WER':>6} "
        f"{'MOS':>5} {'stock':>5} {'RTF':>6} {'train':>6}"
    ]
    for r in rows:
        spoken, stock = r["spoken"], r["stock"]
        lines.append(
            f"{r['recording']:<28} {r['variant']:<6} {r['chosen']:<13} {r['score']:>6.3f} "
            f"{stock['heldout'] or stock['similarity']:>6.3f} {spoken['wer']:>6.3f} "
            f"{spoken['mos']:>5.2f} {stock['mos']:>5.2f} {spoken['rtf']:>6.3f} "
            f"{r['train_s']:>5.0f}s"
        )
    for variant in VARIANTS:
        mine = [r for r in rows if r["variant"] == variant]
        if not mine:
            continue
        scores = [r["score"] for r in mine]
        wer = float(np.mean([r["spoken"]["wer"] for r in mine]))
        drop = float(np.mean([r["stock"]["mos"] - r["spoken"]["mos"] for r in mine]))
        met = (
            np.mean(scores) >= TARGETS["mean_similarity"]
            and min(scores) >= TARGETS["min_similarity"]
            and wer <= TARGETS["wer"]
            and drop <= TARGETS["mos_drop"]
        )
        lines.append(
            f"{variant}: similarity mean {np.mean(scores):.3f} min {min(scores):.3f}, WER "
            f"{wer:.3f}, MOS {np.mean([r['spoken']['mos'] for r in mine]):.2f} (drop vs stock "
            f"{drop:+.2f}), train {np.mean([r['train_s'] for r in mine]):.0f} s -> "
            f"{'meets' if met else 'misses'} the targets {TARGETS}"
        )
    lines.append(
        f"(service run with VOXIFY_MIN_SAMPLE_SPEECH_S={MIN_SPEECH_S}, search_s={data['search_s']})"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--speech-dir", type=Path, default=next((d for d in DEFAULT_SPEECH if d.is_dir()), None)
    )
    parser.add_argument("--search-s", type=float, default=45.0, help="Kokoro search budget")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.speech_dir is None:
        parser.error("no speech directory found; pass --speech-dir")
    os.environ["VOXIFY_MIN_SAMPLE_SPEECH_S"] = MIN_SPEECH_S
    data = run(args.speech_dir, args.search_s)
    print(report(data))
    if args.json:
        args.json.write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
