"""What the benchmark runs: the sentences, the work plan and the two batching modes."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
CONCURRENCY = 8
OVERHEAD_TARGET = 1.15
# Service RTF / Piper's own HTTP server's RTF (issue 10): at most these, per concurrency.
VS_PIPER_TARGETS = {1: 1.15, 8: 1.00}
MODES = {
    "unbatched": {"max_batch_size": 1, "batch_wait_timeout_s": 0.0},
    "batched": {"max_batch_size": 8, "batch_wait_timeout_s": 0.05},
}

# Eight different sentences of 15-25 words: long enough that fixed per-request costs show
# up as a ratio, short enough for the synchronous endpoint.
SENTENCES = (
    "The old lighthouse keeper climbed the spiral stairs every evening to light the lamp that "
    "guided ships safely home.",
    "Fresh bread from the corner bakery fills the whole street with a warm smell long before "
    "the shops open.",
    "After three days of heavy rain, the river finally burst its banks and flooded the low "
    "fields near the village.",
    "Our team reviewed the quarterly results carefully and decided to invest more in research, "
    "training, and customer support next year.",
    "She packed a small bag with a map, a flashlight, two sandwiches, and a notebook before "
    "setting off into the forest.",
    "Modern trains can travel between the two cities in under an hour, which makes commuting "
    "far easier than it used to be.",
    "Please remember to water the tomato plants on the balcony twice a week while we are away "
    "on holiday.",
    "The museum's new exhibition explores how ancient sailors used the stars, the winds, and "
    "the ocean currents to cross vast distances.",
)


@dataclass(frozen=True)
class Plan:
    """How much work each phase does."""

    sentences: tuple[str, ...]
    sequential_rounds: int  # passes over the sentences, raw engine and service interleaved
    burst_rounds: int  # concurrency-8 bursts per batching mode, the modes taking turns
    burst_repeats: int  # each sentence appears this often in one burst

    @property
    def burst(self) -> list[str]:
        """The texts of one concurrency-8 burst."""
        return [text for text in self.sentences for _ in range(self.burst_repeats)]


FULL = Plan(SENTENCES, sequential_rounds=4, burst_rounds=4, burst_repeats=2)
QUICK = Plan(SENTENCES[:4], sequential_rounds=1, burst_rounds=1, burst_repeats=2)
