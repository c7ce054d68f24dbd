"""One progress model for a training run, fed by the trainer's events, read by every view.

`RunProgress` is a TrainingCallback that keeps the state a person watches (step, speed, time left, memory,
best validation loss, paused or not, how it ended). The CLI's progress line and the GUI's run stats both
render it, so the two never disagree on what "time left" or "best" means.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from tunedesk.core import status as run_status
from tunedesk.core.training.callbacks import TrainingCallback


@dataclass
class RunProgress(TrainingCallback):
    step: int = 0
    total_steps: int | None = None
    loss: float | None = None
    val_loss: float | None = None
    best_val_loss: float | None = None
    base_val_loss: float | None = None
    tokens_per_second: float | None = None
    eta_seconds: float | None = None
    memory_mb: float | None = None
    paused: bool = False
    status: str = "new"  # a word of core.status
    started: dict[str, Any] = field(default_factory=dict)
    finished: dict[str, Any] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)  # the latest check's sample answers
    _eta_at: float | None = None  # monotonic time of the latest ETA, so a pause can freeze it

    # ---- hooks -------------------------------------------------------------------------------------
    def on_start(self, info: dict[str, Any]) -> None:
        self.started = dict(info)
        self.total_steps = info.get("total_steps") or self.total_steps
        self.step = int(info.get("resumed_from_step") or 0)
        self.status, self.paused = "running", False

    def on_step(self, info: dict[str, Any]) -> None:
        self.step = int(info.get("step", self.step))
        self.total_steps = info.get("total_steps") or self.total_steps
        self.loss = info.get("loss", self.loss)
        self.tokens_per_second = info.get("tokens_per_second", self.tokens_per_second)
        if info.get("eta_seconds") is not None:
            self.eta_seconds, self._eta_at = float(info["eta_seconds"]), time.monotonic()
        mem = info.get("peak_memory_mb") or info.get("memory_mb")
        if mem is not None:
            self.memory_mb = float(mem)
        self.status, self.paused = "running", False

    def on_eval(self, info: dict[str, Any]) -> None:
        self.val_loss = info.get("val_loss")
        if info.get("step") == 0 and self.val_loss is not None:
            self.base_val_loss = self.val_loss
        best = info.get("best_val_loss", self.val_loss)
        if best is not None and (self.best_val_loss is None or best <= self.best_val_loss):
            self.best_val_loss = best
        if info.get("samples"):
            self.samples = list(info["samples"])

    def on_pause(self, info: dict[str, Any]) -> None:
        self.eta_seconds = self.time_left()  # what was left when the pause began, held until it ends
        self.paused, self.status = True, "paused"

    def on_resume(self, info: dict[str, Any]) -> None:
        self.paused, self.status = False, "running"
        self._eta_at = time.monotonic()  # the clock restarts where the pause froze it

    def on_finish(self, info: dict[str, Any]) -> None:
        self.finished = dict(info)
        self.status, self.paused = str(info.get("status", "failed")), False
        self.step = int(info.get("steps", self.step) or self.step)
        if info.get("best_val_loss") is not None:
            self.best_val_loss = info["best_val_loss"]
        if info.get("base_val_loss") is not None:
            self.base_val_loss = info["base_val_loss"]
        self.eta_seconds = 0.0 if run_status.is_success(self.status) else None

    # ---- derived -----------------------------------------------------------------------------------
    @property
    def fraction(self) -> float:
        if run_status.is_success(self.status):
            return 1.0
        if not self.total_steps:
            return 0.0
        return max(0.0, min(1.0, self.step / self.total_steps))

    def time_left(self, now: float | None = None) -> float | None:
        """Seconds left: the trainer's latest ETA, counted down while training, frozen while paused."""
        if self.eta_seconds is None or self._eta_at is None or self.paused:
            return self.eta_seconds
        if self.finished:
            return self.eta_seconds
        now = time.monotonic() if now is None else now
        return max(0.0, self.eta_seconds - (now - self._eta_at))

    @property
    def best_so_far(self) -> float | None:
        """The best validation loss to show: the trainer's best, or the step-0 (untrained) score until a
        trained step has one, so the figure beside a curve with one point is never blank."""
        return self.best_val_loss if self.best_val_loss is not None else self.base_val_loss

    @property
    def done(self) -> bool:
        return bool(self.finished)
