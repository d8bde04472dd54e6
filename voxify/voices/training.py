"""The clone_training job: fit every engine this deployment can clone with, keep the best.

The samples are split into a part the fits see and a held-out part they don't. Candidates:
Piper speech converted toward the samples with the WORLD vocoder; a Kokoro style searched
among mixes of the nearest stock voices (voxify/voices/kokoro_fit.py), as it is and with the
WORLD conversion on top. Each candidate speaks the calibration sentences and is scored on the
held-out part; the best one becomes the clone (its WORLD conversion then refitted on every
sample: chosen on held-out audio, trained on all of it). Where an XTTS pool runs, the clone
also gets XTTS conditioning latents and speaks with XTTS.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from voxify.audio.analysis import decode
from voxify.audio.naturalness import naturalness
from voxify.db.models import Job, VoiceClone, VoiceSample, utcnow
from voxify.db.session import session_scope
from voxify.engines.conversion import ConversionParams, convert, fit_conversion
from voxify.errors import InvalidAudio, InvalidState
from voxify.jobs.runner import JobContext, JobRunner
from voxify.speech import Audio, SynthesisRequest
from voxify.status import SampleStatus
from voxify.voices import repository
from voxify.voices.blends import Blend
from voxify.voices.clones import latents_key
from voxify.voices.kokoro_fit import (
    SEARCH_TEXT,
    Scorer,
    VoiceTraits,
    fit_style,
    nearest_stock,
)
from voxify.voices.library import CALIBRATION_TEXTS

CLONE_ENGINES = ("piper", "kokoro")  # a clone's config {"engines": [...]} may narrow these
MIN_HELD_OUT_S = 1.5  # a single sample shorter than twice this is scored on what it was fit on
# Kokoro sounds natural where WORLD-converted Piper does not (DNSMOS, docs/benchmarks.md): a
# Piper candidate must beat the best Kokoro one by more than score noise to be kept.
KOKORO_PREFERENCE = 0.01
# Naturalness (DNSMOS P.808) a candidate may lose against the plain Kokoro style for free (the
# tolerance the clone benchmark holds clones to), and what each further MOS point costs.
NATURALNESS_SLACK = 0.2
NATURALNESS_WEIGHT = 0.5


@dataclass
class Candidate:
    """One way the clone could speak, and how it did on the held-out part."""

    engine: str
    audio: Audio  # the calibration sentences, as this candidate speaks them
    conversion: ConversionParams | None = None
    style: Blend | None = None
    score: float = 0.0
    similarity: float = 0.0
    mos: float | None = None  # DNSMOS P.808, where candidates are compared on it
    source: Sequence[Audio] = ()  # the engine's own calibration speech (WORLD candidates)

    @property
    def label(self) -> str:
        return f"{self.engine}{'+world' if self.conversion else ''}"


def train_clone(context: JobContext, job: Job) -> None:
    """Fit the candidates, keep the best on held-out audio, index the voice, mark it ready."""
    runner = context.runner
    voiceprints = runner.voiceprints
    if voiceprints is None:
        raise RuntimeError("this runner has no speaker encoder; it cannot train clones")
    clone, samples = _load(runner, job)
    context.progress(8.0, f"Loading {len(samples)} processed sample(s)")
    targets = [decode(runner.blobs.get(s.processed_blob_key or "")) for s in samples]
    fit_part, held_part = split_held_out(targets)
    fit_scorer = Scorer(
        voiceprints.embed, _mean_embedding(voiceprints.embed, fit_part), VoiceTraits.of(fit_part)
    )
    held_scorer = Scorer(
        voiceprints.embed, _mean_embedding(voiceprints.embed, held_part), VoiceTraits.of(held_part)
    )

    context.progress(10.0, "Fitting the WORLD conversion to Piper speech")
    candidates = _world_candidates(context, "piper", None, fit_part, fit_scorer, (10.0, 30.0))
    piper = candidates[0]  # kept in every clone: how it speaks where Kokoro does not run
    config = clone.config or {}
    engines = config.get("engines") or list(CLONE_ENGINES)
    stock = runner.catalogue.kokoro_voiceprints
    budget = float(config.get("search_s", runner.clone_search_s))
    if "kokoro" in engines and runner.catalogue.kokoro_available and stock:
        style, searched = _search_style(context, stock, fit_scorer, budget)
        candidates += _world_candidates(
            context, "kokoro", style, fit_part, fit_scorer, (75.0, 88.0)
        )
    else:
        searched = {}
    context.progress(88.0, "Scoring the candidates on held-out audio")
    if "piper" not in engines and len(candidates) > 1:
        candidates = candidates[1:]
    for candidate in candidates:
        candidate.similarity = held_scorer.similarity(candidate.audio)
        candidate.score = candidate.similarity - held_scorer.traits.penalty(
            VoiceTraits.of([candidate.audio])
        )
    _gate_naturalness(candidates)
    best = _best(candidates)
    if best.conversion is not None and held_part is not fit_part:
        context.progress(90.0, f"Refitting {best.label} on every sample")
        everything = Scorer(
            voiceprints.embed, _mean_embedding(voiceprints.embed, targets), VoiceTraits.of(targets)
        )
        best.conversion = fit_conversion(best.source, targets, everything).params
    baseline = _baseline(runner, held_scorer, searched)
    report = {
        "held_out": bool(held_part is not fit_part),
        "candidates": {c.label: round(c.similarity, 4) for c in candidates},
        "naturalness": {c.label: round(c.mos, 3) for c in candidates if c.mos is not None},
        "chosen": best.label,
        "search": searched,
    }
    latents = None
    if runner.catalogue.xtts_available:
        context.progress(92.0, "Computing XTTS conditioning latents")
        latents = runner.synthesis.conditioning_latents(targets)
    _finish(context, clone, best, piper, baseline, report, latents)


def split_held_out(targets: Sequence[Audio]) -> tuple[list[Audio], list[Audio]]:
    """The samples the fits see, and those they are scored on: alternate samples (longest
    first) where there are several; else the last 40 % of a long enough single one."""
    ordered = sorted(targets, key=lambda a: -a.duration)
    if len(ordered) >= 2:
        return ordered[0::2], ordered[1::2]
    (only,) = ordered
    cut = int(len(only.samples) * 0.6)
    if (len(only.samples) - cut) / only.sample_rate < MIN_HELD_OUT_S:
        everything = [only]  # too short to split: no held-out part (one list, both roles)
        return everything, everything
    return [Audio(only.samples[:cut], only.sample_rate)], [
        Audio(only.samples[cut:], only.sample_rate)
    ]


def _search_style(
    context: JobContext, stock: dict[str, np.ndarray], scorer: Scorer, budget_s: float
) -> tuple[Blend, dict[str, Any]]:
    """The Kokoro style search, reporting each trial as job progress (cancel stops it)."""
    synthesis = context.runner.synthesis
    nearest = nearest_stock(stock, scorer.reference)
    started = time.monotonic()

    def render(blend: Blend) -> Audio:
        return synthesis.synthesize(
            SynthesisRequest(text=SEARCH_TEXT, voice_id="kokoro_fit", engine="kokoro", style=blend)
        )

    def progress(trial: int, best: float) -> None:
        share = min(1.0, (time.monotonic() - started) / max(budget_s, 1e-6))
        context.progress(
            30.0 + 45.0 * share, f"Kokoro style search: trial {trial}, best {best:.3f}"
        )

    fit = fit_style(nearest, render, scorer, budget_s=budget_s, progress=progress)
    return fit.blend, {
        "nearest": [[name, round(sim, 4)] for name, sim in nearest],
        "trials": len(fit.trials),
        "nearest_score": round(fit.baseline, 4),
        "best_score": round(fit.score, 4),
        "blend": [[name, weight] for name, weight in fit.blend],
    }


def _world_candidates(
    context: JobContext,
    engine: str,
    style: Blend | None,
    targets: Sequence[Audio],
    scorer: Scorer,
    span: tuple[float, float],
) -> list[Candidate]:
    """The engine's calibration speech as it is (Kokoro) and WORLD-converted toward the
    samples (both engines)."""
    synthesis = context.runner.synthesis
    context.progress(span[0], f"Rendering calibration speech with {engine}")
    source = [
        synthesis.synthesize(SynthesisRequest(text=text, engine=engine, style=style))
        for text in CALIBRATION_TEXTS
    ]

    def fitted(fraction: float) -> None:
        context.progress(span[0] + (span[1] - span[0]) * fraction, f"Fitting WORLD to {engine}")

    try:
        fit = fit_conversion(source, targets, scorer, progress=fitted)
    except ValueError as exc:  # too little voiced speech, too low a sample rate
        raise InvalidAudio(f"The samples cannot be fitted: {exc}") from exc
    joined = Audio.join(source)
    converted = Candidate(
        engine, convert(joined, fit.params), conversion=fit.params, style=style, source=source
    )
    return [converted] if style is None else [Candidate(engine, joined, style=style), converted]


def _gate_naturalness(candidates: Sequence[Candidate]) -> None:
    """Where a Kokoro style is among the candidates, score each one's naturalness against
    the style as Kokoro says it: one that sounds clearly less natural (WORLD's vocoder on
    Piper can lose most of a MOS point, docs/benchmarks.md) pays for it in its score."""
    plain = [c for c in candidates if c.engine == "kokoro" and c.conversion is None]
    if not plain:
        return
    for candidate in candidates:
        candidate.mos = naturalness(candidate.audio)
    reference = max(c.mos or 0.0 for c in plain)
    for candidate in candidates:
        lost = reference - (candidate.mos or 0.0) - NATURALNESS_SLACK
        candidate.score -= NATURALNESS_WEIGHT * max(0.0, lost)


def _best(candidates: Sequence[Candidate]) -> Candidate:
    """The best held-out score, Kokoro's candidates preferred within KOKORO_PREFERENCE."""

    def rank(candidate: Candidate) -> float:
        return candidate.score + (KOKORO_PREFERENCE if candidate.engine == "kokoro" else 0.0)

    return max(candidates, key=rank)


def _baseline(runner: JobRunner, scorer: Scorer, searched: dict[str, Any]) -> float:
    """The held-out similarity of the voice a clone starts from: the nearest stock Kokoro
    voice where Kokoro runs, else the Piper preset."""
    if searched:
        voice = searched["nearest"][0][0]
        request = SynthesisRequest(
            text=" ".join(CALIBRATION_TEXTS), engine="kokoro", style=((voice, 1.0),)
        )
    else:
        request = SynthesisRequest(text=" ".join(CALIBRATION_TEXTS))
    return scorer.similarity(runner.synthesis.synthesize(request))


def _finish(
    context: JobContext,
    clone: VoiceClone,
    best: Candidate,
    piper: Candidate,
    baseline: float,
    report: dict[str, Any],
    latents: bytes | None,
) -> None:
    runner = context.runner
    voiceprints = runner.voiceprints
    assert voiceprints is not None
    key = latents_key(clone.user_id, clone.id)
    try:
        if latents is not None:
            runner.blobs.put(key, latents, "application/octet-stream")
        voiceprints.store(
            clone.id,
            voiceprints.embed(best.audio),
            {
                "owner_id": clone.user_id,
                "kind": "clone",
                "voice_model_id": clone.id,
                "name": clone.name,
                "language": clone.language,
            },
        )

        def apply(session: Session) -> None:
            row = session.get(VoiceClone, clone.id)
            if row is None:  # deleted meanwhile: the completion must not land
                raise LookupError(f"voice clone {clone.id} was deleted")
            row.conversion = piper.conversion.to_dict() if piper.conversion else None
            row.style = None
            if best.style is not None:
                world = best.conversion.to_dict() if best.conversion else None
                row.style = {"blend": [[n, w] for n, w in best.style], "conversion": world}
            row.similarity = best.similarity
            row.baseline_similarity = baseline
            row.engine = "xtts" if latents is not None else best.engine
            row.latents_blob_key = None if latents is None else key
            row.config = {**(row.config or {}), "fit": report}
            row.trained_at = utcnow()

        context.complete(
            f"Voice clone ready ({best.label}): speaker similarity on held-out audio "
            f"{baseline:.2f} -> {best.similarity:.2f}",
            apply,
        )
    except BaseException:
        voiceprints.delete([clone.id])
        runner.blobs.delete(key)
        raise


def _load(runner: JobRunner, job: Job) -> tuple[VoiceClone, list[VoiceSample]]:
    with session_scope(runner.sessions) as session:
        clone = session.get(VoiceClone, job.subject_id)
        if clone is None:
            raise LookupError(f"voice clone {job.subject_id} no longer exists")
        samples = [
            s
            for s in repository.get_samples(
                session=session, sample_ids=clone.sample_ids, owner_id=clone.user_id
            )
            if s.status == SampleStatus.READY and s.processed_blob_key
        ]
        session.expunge_all()
    if not samples:
        raise InvalidState("None of the clone's samples is ready any more (deleted?)")
    return clone, samples


def _mean_embedding(embed: Any, audios: Sequence[Audio]) -> np.ndarray:
    """One speaker embedding of several clips, weighted by length."""
    vectors = np.stack([embed(a) for a in audios])
    mean = np.average(vectors, axis=0, weights=[a.duration for a in audios])
    return np.asarray(mean / np.linalg.norm(mean), dtype=np.float32)
