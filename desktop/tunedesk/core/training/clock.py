"""Training time and throughput, as the progress events report them.

Elapsed time is training time: carried across resumes (saved in each checkpoint's state) and without pauses.
Tokens per second counts real (non-pad) tokens over the time spent in optimizer steps of this process, so
validation checks and checkpoint writes do not dilute it; the ETA, which must include them, uses wall time
per step instead.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator


class TrainingClock:
    """Training time (pauses excluded) carried across resumes, and this process's step throughput."""

    def __init__(self, before: float) -> None:
        self.before = before
        self.start = time.monotonic()
        self.paused_for = 0.0
        self.one_off = 0.0  # counted as training time, but not in the time per step (the base model's check)
        self.step_seconds = 0.0
        self.step_tokens = 0
        self.steps = 0

    def total(self) -> float:
        return self.before + time.monotonic() - self.start - self.paused_for

    def add_step(self, seconds: float, tokens: int) -> None:
        self.step_seconds += seconds
        self.step_tokens += tokens
        self.steps += 1

    def tokens_per_second(self) -> float:
        return self.step_tokens / self.step_seconds if self.step_seconds > 0 else 0.0

    def seconds_per_step(self) -> float:
        # Wall time per step including evals and checkpoints: what the ETA must account for.
        done_here = time.monotonic() - self.start - self.paused_for - self.one_off
        return done_here / self.steps if self.steps else 0.0

    def paused(self) -> contextlib.AbstractContextManager[None]:
        """Time spent inside does not count as training time."""
        return self._adding_to("paused_for")

    def not_per_step(self) -> contextlib.AbstractContextManager[None]:
        """Time spent inside is training time, but not part of the time per step the ETA uses."""
        return self._adding_to("one_off")

    @contextlib.contextmanager
    def _adding_to(self, total: str) -> Iterator[None]:
        """Adds the time spent inside to the attribute named `total`."""
        t0 = time.monotonic()
        try:
            yield
        finally:
            setattr(self, total, getattr(self, total) + time.monotonic() - t0)
