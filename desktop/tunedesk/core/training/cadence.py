"""When the trainer checks validation loss, and when a check also writes sample answers.

A check every ``eval_every`` steps is what a user who sets it asks for, and gets, samples and all. The automatic
cadence (``eval_every`` 0: about ten checks per run) is also held to a time budget: a check waits until the
training since the last one is at least (1 - VALIDATION_SHARE) / VALIDATION_SHARE times what the last check
cost, so checking takes at most about 15% of a run however slow the machine or large the validation set. Sample
answers (greedy generation, the costliest part of a check on a CPU: bench/train.py measured 5-10 s of a 10-15 s
check for the starter) come with the first and the last check and otherwise at most once per SAMPLE_INTERVAL_S
of training. Times are training seconds (TrainingClock.total), so pauses do not count.
"""

from __future__ import annotations

VALIDATION_SHARE = 0.15
SAMPLE_INTERVAL_S = 120.0
AUTO_CHECKS = 10  # about this many checks per run
MAX_AUTO_EVERY = 50


class ValidationCadence:
    def __init__(self, eval_every: int, total_steps: int, *, time_budget: bool = True) -> None:
        self.explicit = eval_every > 0
        self.time_budget = time_budget and not self.explicit
        self.every = eval_every or max(1, min(MAX_AUTO_EVERY, -(-total_steps // AUTO_CHECKS)))
        self.total_steps = total_steps
        self.last_end: float | None = None  # when the last check ended
        self.last_cost = 0.0  # what it cost (the base model's check is a one-off and does not count)
        self.last_samples: float | None = None

    def due(self, step: int, now: float) -> bool:
        """Check validation after optimizer step `step`?"""
        if step >= self.total_steps:
            return True
        if step % self.every:
            return False
        if not self.time_budget or self.last_end is None:
            return True
        return now - self.last_end >= self.last_cost * (1 - VALIDATION_SHARE) / VALIDATION_SHARE

    def samples_due(self, step: int, now: float) -> bool:
        """Write sample answers at this check?"""
        if self.explicit or self.last_samples is None or step >= self.total_steps:
            return True
        return now - self.last_samples >= SAMPLE_INTERVAL_S

    def record(self, started: float, ended: float, *, sampled: bool, one_off: bool = False) -> None:
        self.last_end = ended
        if not one_off:
            self.last_cost = ended - started
        if sampled:
            self.last_samples = ended
