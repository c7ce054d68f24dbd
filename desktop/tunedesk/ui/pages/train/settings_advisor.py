"""Asks the core which settings suit this machine, model and data, and how much memory they need.

The answer comes from `tunedesk doctor --model M --data F --json [--set k=v ...]` in a subprocess
(`select_preset` and `estimate_memory` need the model's tokenizer, so transformers, which the GUI process
never imports). A new question supersedes one still running: its answer would be for older inputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal

from tunedesk.ui.process.worker_process import ProcessOutcome, WorkerProcess


@dataclass
class Advice:
    preset: dict[str, Any] | None = None  # Preset.to_dict() of the core's choice
    estimate: dict[str, Any] | None = None  # MemoryEstimate.to_dict(), plus "device"
    notes: list[str] = field(default_factory=list)  # the core's reasons and warnings, in its words
    error: str = ""  # why there is no advice (the model is missing, the check failed...)
    duration: dict[str, Any] | None = None  # DurationEstimate as JSON: quick/full lengths and their times


def parse_doctor(text: str, ok: bool) -> Advice:
    """The Advice in `tunedesk doctor --json` output (its format is documented in cli/doctor_cmd.py)."""
    try:
        report = json.loads(text)
    except json.JSONDecodeError:
        report = None
    if not isinstance(report, dict):
        return Advice(error="the check of this machine did not finish.")
    if isinstance(report.get("error"), dict):
        return Advice(error=str(report["error"].get("message", "the check failed.")))
    selection = report.get("selection")
    if not isinstance(selection, dict):
        return Advice(
            error="the check of this machine did not finish." if not ok else "no model was checked."
        )
    estimate = selection.get("estimate")
    if isinstance(estimate, dict) and selection.get("device"):
        estimate = {"device": selection["device"], **estimate}
    notes = [str(n) for n in (*(selection.get("reasons") or []), *(selection.get("warnings") or []))]
    preset, duration = selection.get("preset"), report.get("duration")
    return Advice(
        preset if isinstance(preset, dict) else None,
        estimate if isinstance(estimate, dict) else None,
        notes,
        duration=duration if isinstance(duration, dict) else None,
    )


class SettingsAdvisor(QObject):
    """Signals:
    advised(object): an `Advice`, once per `request` that was not superseded.
    """

    advised = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process = WorkerProcess(self)
        self._lines: list[str] = []
        self.process.invalid_line.connect(self._lines.append)  # doctor prints JSON, not protocol events
        self.process.finished.connect(self._on_finished)
        self.process.error_occurred.connect(lambda msg: self.advised.emit(Advice(error=msg)))

    def request(
        self,
        model: str,
        data: str,
        overrides: dict[str, Any],
        consent: dict[str, bool] | None = None,
        processes: int = 1,
    ) -> None:
        """`consent`: what the user allowed for this model (AppState.consent_for), passed as doctor's flags;
        `processes` > 1: the memory estimate is per process (one GPU each)."""
        self._lines.clear()
        args = ["doctor", "--model", model, "--data", data, "--json"]
        args += ["--processes", str(processes)] if processes > 1 else []
        args += [f"--{name.replace('_', '-')}" for name, given in (consent or {}).items() if given]
        for name, value in sorted(overrides.items()):
            args += ["--set", f"{name}={value}"]
        self.process.start_cli(args)

    def is_running(self) -> bool:
        return self.process.is_running()

    def _on_finished(self, outcome: ProcessOutcome) -> None:
        self.advised.emit(parse_doctor("\n".join(self._lines), outcome.was_successful()))
