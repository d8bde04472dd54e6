"""Fuzzing the OpenAPI schema with schemathesis: the checks, the run, and what it found.

Shared by tests/unit/test_fuzz_api.py (the in-process app, bounded) and loadtests/fuzz.py
(a running service, longer). Schemathesis runs its phases as its command line does: the
schema's examples, boundary values of every parameter ("coverage"), then generated valid and
invalid requests ("fuzzing"), each answer checked.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.engine import Status, events, from_schema

ENVELOPE = {"success", "data", "message", "error", "meta", "timestamp"}
OPENAI_PREFIX = "/v1/"  # OpenAI's door answers in OpenAI's shapes, not the envelope
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "envelope_conformance",
]


@schemathesis.check
def envelope_conformance(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every JSON answer outside OpenAI's door is the envelope; an error one has its code."""
    media = response.headers.get("content-type", [""])[0]
    if not media.startswith("application/json") or case.operation.path.startswith(OPENAI_PREFIX):
        return None
    body = response.json()
    assert isinstance(body, dict) and set(body) == ENVELOPE, f"Not the envelope: {body!r:.300}"
    failed = response.status_code >= 400
    assert body["success"] is not failed, (
        f"success is {body['success']} with {response.status_code}"
    )
    if failed:
        error = body["error"]
        assert isinstance(error, dict) and error.get("code"), f"An error without a code: {body}"
        assert body["data"] is None, f"An error with data: {body}"
    else:
        assert body["error"] is None, f"A success with an error: {body}"
    return None


def config(
    *,
    max_examples: int,
    seed: int,
    unexpected_methods: Sequence[str] | None = None,
    max_stream_events: int = 20,
) -> schemathesis.Config:
    """Schemathesis's configuration (as its schemathesis.toml would say it): the checks above,
    a fixed seed and a budget of generated requests per operation; ``unexpected_methods``: those
    tried on every path that lacks them (None: schemathesis's eight); ``max_stream_events``:
    the events read from a stream before leaving it (a pending job's progress sends one, then
    keep-alives until the job moves)."""
    coverage: dict[str, Any] = {}
    if unexpected_methods is not None:
        coverage["unexpected-methods"] = list(unexpected_methods)
    return schemathesis.Config.from_dict(
        {
            "seed": seed,
            # The same requests every run (derandomized, nothing replayed from earlier runs)
            # and no health check that a slow, busy machine could fail.
            "suppress-health-check": ["all"],
            "generation": {"max-examples": max_examples, "deterministic": True, "database": "none"},
            "checks": {"enabled": False} | {name: {"enabled": True} for name in CHECKS},
            "phases": {"coverage": coverage, "stateful": {"enabled": False}},
            "max-stream-events": max_stream_events,
            # A slow answer on a busy machine is not a failure (a server error would be).
            "request-timeout": 120,
        }
    )


def known_ids(schema: schemathesis.BaseSchema, known: Mapping[str, Sequence[str]]) -> None:
    """Path parameters named in ``known`` are sometimes ids that exist (else each is a 404)."""

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
        if not path_parameters:
            return st.just(path_parameters)
        existing = {
            name: st.sampled_from(list(known[name])) if name in known else st.just(value)
            for name, value in path_parameters.items()
        }
        return st.one_of(st.just(path_parameters), st.fixed_dictionaries(existing))


@dataclass
class Finding:
    """One failed check: which, where, and the request that shows it."""

    check: str
    operation: str
    title: str
    message: str
    reproduce: str


@dataclass
class Report:
    """What one run did and found."""

    answers: dict[str, Counter[int]] = field(default_factory=dict)  # statuses by operation
    elapsed: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    phases: Counter[str] = field(default_factory=Counter)  # requests by phase
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def statuses(self) -> Counter[int]:
        """Every answer's status, counted."""
        return sum(self.answers.values(), Counter())

    @property
    def requests(self) -> int:
        return self.statuses.total()

    def summary(self, *, per_operation: bool = False) -> str:
        """Figures for people: operations, requests, statuses, time, what failed."""
        lines = [
            f"{len(self.answers)} operations, {self.requests} requests in {self.seconds:.0f} s",
            "statuses: " + _counts(self.statuses),
            "requests by phase: " + ", ".join(f"{n} {c}" for n, c in sorted(self.phases.items())),
            f"{len(self.findings)} failed checks, {len(self.errors)} errors",
        ]
        if per_operation:
            lines += [
                f"  {label} ({self.elapsed[label]:.1f} s): {_counts(self.answers[label])}"
                for label in sorted(self.answers)
            ]
        seen: set[tuple[str, str, str]] = set()
        for finding in self.findings:
            key = (finding.check, finding.operation, finding.title)
            if key not in seen:
                seen.add(key)
                lines.append(
                    f"- {finding.check} on {finding.operation}: {finding.title}\n"
                    f"  {finding.message[:400]}\n  {finding.reproduce[:600]}"
                )
        lines += [f"- error: {error[:600]}" for error in self.errors]
        return "\n".join(lines)


def _counts(statuses: Counter[int]) -> str:
    return ", ".join(f"{status} x{count}" for status, count in sorted(statuses.items()))


def run(schema: schemathesis.BaseSchema, *, headers: Mapping[str, str]) -> Report:
    """Run every phase over ``schema``'s operations with ``headers`` (the credentials) on
    every request; collect the answers and what failed."""
    schema.config.update(headers=dict(headers))
    report = Report()
    begun = time.perf_counter()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _record(report, event)
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            report.errors.append(f"fatal: {event.exception!r}")
    report.seconds = time.perf_counter() - begun
    return report


def _record(report: Report, event: events.ScenarioFinished) -> None:
    recorder = event.recorder
    answers = report.answers.setdefault(recorder.label, Counter())
    report.elapsed[recorder.label] += event.elapsed_time
    report.phases[event.phase.value] += len(recorder.interactions)
    for interaction in recorder.interactions.values():
        if interaction.response is not None:
            answers[interaction.response.status_code] += 1
    if event.status != Status.FAILURE:
        return
    for checks in recorder.checks.values():
        for check in checks:
            info = check.failure_info
            if check.status == Status.FAILURE and info is not None:
                report.findings.append(
                    Finding(
                        check=check.name,
                        operation=recorder.label,
                        title=info.failure.title,
                        message=info.failure.message,
                        reproduce=info.code_sample,
                    )
                )
