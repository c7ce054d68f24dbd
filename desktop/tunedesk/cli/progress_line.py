"""The console's view of a training run: one live progress line, plus a line per check and a summary.

A TrainingCallback like the JSON-lines writer, fed by the CLI with the events it reads from the worker
(callbacks.dispatch_event). The numbers come from core's RunProgress, the same model the GUI renders. On a terminal the progress line rewrites itself; in a log file or a pipe each
step is a line of its own.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import IO, Any

from tunedesk.core import status as run_status
from tunedesk.core.data.general_prompts import fraction_note
from tunedesk.core.formatting import duration
from tunedesk.core.formatting import number as _num
from tunedesk.core.report.verdict import forgetting_verdict
from tunedesk.core.training.callbacks import TrainingCallback
from tunedesk.core.training.progress import RunProgress


class ConsoleProgress(TrainingCallback):
    def __init__(self, run_dir: Path | None = None, stream: IO[str] | None = None) -> None:
        self.run_dir = run_dir
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty()
        self.progress = RunProgress()
        self.started = False
        self._line_open = False

    @property
    def general_fraction(self) -> float:
        """The run's general_data_fraction, for the remedy the forgetting verdict suggests."""
        from tunedesk.core.errors import TuneDeskError
        from tunedesk.core.runs import load_config

        if self.run_dir is None:
            return 0.0
        try:
            return load_config(self.run_dir).preset.general_data_fraction
        except (TuneDeskError, OSError):
            return 0.0

    # ---- output helpers -----------------------------------------------------------------------------
    def _line(self, text: str) -> None:
        """A permanent line (closing the live line first)."""
        if self._line_open:
            self.stream.write("\n")
            self._line_open = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def _live(self, text: str) -> None:
        if not self.live:
            self._line(text)
            return
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self.stream.write("\r" + text[:width].ljust(width))
        self.stream.flush()
        self._line_open = True

    # ---- hooks -------------------------------------------------------------------------------------
    def on_log(self, info: dict[str, Any]) -> None:
        if not self.started or info.get("level") in ("warning", "error"):
            self._line(f"  {info.get('message', '')}")

    def on_start(self, info: dict[str, Any]) -> None:
        self.progress.on_start(info)
        self.started = True
        resumed = info.get("resumed_from_step")
        head = f"Resumed at step {resumed}" if resumed is not None else "Training"
        self._line(
            f"{head}: {info.get('total_steps')} steps, {info.get('train_examples')} training"
            + (f" ({info['general_examples']} of them general)" if info.get("general_examples") else "")
            + " / "
            f"{info.get('val_examples')} validation examples, {info.get('method')} on {info.get('device')} "
            f"({info.get('trainable_params', 0):,} of {info.get('total_params', 0):,} weights train)"
        )
        note = fraction_note(info.get("general_data_fraction"), info.get("general_fraction_used"))
        if note:
            self._line(f"  {note}")

    def on_step(self, info: dict[str, Any]) -> None:
        p = self.progress
        p.on_step(info)
        self._live(
            f"step {p.step}/{p.total_steps}  loss {_num(p.loss)}  "
            f"val {_num(p.val_loss)}  {_num(p.tokens_per_second, '.0f')} tok/s  "
            f"ETA {duration(p.time_left())}"
        )

    def on_eval(self, info: dict[str, Any]) -> None:
        self.progress.on_eval(info)
        tag = "base model" if info["step"] == 0 else ("best so far" if info.get("is_best") else "")
        self._line(
            f"  check at step {info['step']}: validation loss {_num(self.progress.val_loss)}"
            + (f" ({tag})" if tag else "")
            + (
                f", prefers the chosen answer in {info['preference_accuracy']:.0%} of held-out pairs "
                f"(reward margin {_num(info.get('reward_margin'))})"
                if info.get("preference_accuracy") is not None
                else ""
            )
        )
        for sample in (info.get("samples") or [])[:1]:
            answer = " ".join(str(sample.get("answer", "")).split())[:100]
            self._line(f"    sample answer: {answer or '(empty)'}")

    def on_pause(self, info: dict[str, Any]) -> None:
        self.progress.on_pause(info)
        self._line(f"  paused at step {info['step']}")

    def on_resume(self, info: dict[str, Any]) -> None:
        self.progress.on_resume(info)
        self._line(f"  resumed at step {info['step']}")

    def on_error(self, info: dict[str, Any]) -> None:
        self._line(f"Error: {info.get('message')}")
        if info.get("hint"):
            self._line(f"  What to do: {info['hint']}")

    def on_finish(self, info: dict[str, Any]) -> None:
        self.progress.on_finish(info)
        status = self.progress.status
        self._line(
            f"{run_status.sentence(status)} after {info.get('steps', '?')} steps ({duration(info.get('elapsed'))})."
        )
        if info.get("stop_reason"):
            self._line(f"  {info['stop_reason']}")
        base, best = info.get("base_val_loss"), info.get("best_val_loss")
        if best is not None:
            self._line(f"  validation loss: {_num(base)} (base model) -> {_num(best)} (best)")
        verdict = forgetting_verdict(info.get("forgetting"), self.general_fraction)
        if verdict:
            self._line(f"  {verdict.text}" + (f" {verdict.remedy}" if verdict.remedy else ""))
        if info.get("adapter_path"):
            self._line(f"  adapter: {info['adapter_path']}")
        if info.get("best_checkpoint"):
            self._line(f"  best checkpoint: {info['best_checkpoint']}")
        if self.run_dir is not None:
            if status in ("cancelled", "failed"):
                self._line(f"  continue with: tunedesk resume {self.run_dir}")
            elif run_status.is_success(status):
                self._line(f"  next: tunedesk export {self.run_dir}")
                self._line(f"  before/after report: tunedesk report {self.run_dir}")
