"""The Train page: the settings chosen for this machine, then a live view of the run.

The core decides: the preset and estimates come from `tunedesk doctor --json` (a subprocess: no torch here),
the run folder from `runs.create_run`, the training from `python -m tunedesk.worker train RUN_DIR`, started
detached so a run can outlive the window and followed through its folder (ui/process/worker_process.py).
"""

from __future__ import annotations

import collections
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from tunedesk.core import runs
from tunedesk.core import status as run_status
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.models.source import CONSENT_SHOWN, GUI_CONSENT_HINT
from tunedesk.core.protocol import read_events
from tunedesk.core.training.launcher import train_command
from tunedesk.ui.app_state import AppState
from tunedesk.ui.pages.train.run_monitor import RunMonitor
from tunedesk.ui.pages.train.settings_panel import TrainSettings
from tunedesk.ui.process.worker_process import ProcessOutcome, WorkerProcess
from tunedesk.ui.widgets.error_banner import ErrorBanner
from tunedesk.ui.widgets.page_title import add_page_title


class TrainPage(QWidget):
    """Signals:
    run_finished(object, float): a `ProcessOutcome` and how many seconds the run was followed (for a
        desktop notification when a long run ends).
    paused_changed(bool): the run paused (True) or went on (False); the menu's Pause/Resume follow it.
    """

    run_finished = Signal(object, float)
    paused_changed = Signal(bool)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.worker = WorkerProcess(self)
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=200)
        self._run_dir = ""  # the run this page shows
        self._started_at = 0.0
        self._paused = False
        self._build()
        self._connect()
        self._on_inputs_changed()
        if state.preset is not None:
            self.form.set_preset(state.preset)

    @property
    def paused(self) -> bool:
        return self._paused

    # ---- layout -------------------------------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(28, 22, 28, 22)
        root.setSpacing(14)
        self.subtitle = add_page_title(root, "Train")  # the model and data, filled in as they change
        self.banner = ErrorBanner()
        self.banner.action_clicked.connect(self._on_banner_action)
        root.addWidget(self.banner)
        self.settings = TrainSettings(self.state)  # the core's advice and the preset form
        self.monitor = RunMonitor()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.settings)
        split.addWidget(self.monitor)
        split.setStretchFactor(1, 1)
        split.setSizes([360, 900])
        split.setChildrenCollapsible(False)
        root.addWidget(split, 1)
        # Short names for the parts the main window and the tests use.
        self.advisor, self.estimate, self.form = (
            self.settings.advisor,
            self.settings.estimate,
            self.settings.form,
        )
        m = self.monitor
        self.stats, self.curves, self.samples, self.log = m.stats, m.curves, m.samples, m.log
        self.start_button, self.pause_button = m.start_button, m.pause_button
        self.resume_button, self.cancel_button = m.resume_button, m.cancel_button
        self._set_running(False)

    def _connect(self) -> None:
        s = self.state
        s.model_changed.connect(self._on_inputs_changed)
        s.data_changed.connect(self._on_inputs_changed)
        s.consent_changed.connect(self._on_inputs_changed)
        s.hardware_changed.connect(self._on_inputs_changed)
        s.run_changed.connect(self._on_run_changed)
        s.resume_requested.connect(self.continue_run)
        s.open_requested.connect(lambda run: None if self.worker.is_running() else self.load_run(run))
        self.settings.advice_changed.connect(lambda: self._set_running(self.worker.is_running()))
        self.start_button.clicked.connect(self.start_training)
        self.pause_button.clicked.connect(self.pause)
        self.resume_button.clicked.connect(self.resume)
        self.cancel_button.clicked.connect(self.cancel)
        self.monitor.export_button.clicked.connect(self.export_run)
        self.worker.event.connect(self.handle_event)
        self.worker.stderr_line.connect(self._on_stderr)
        self.worker.finished.connect(self._on_worker_finished)
        self.worker.error_occurred.connect(lambda msg: self._fail_to_start(msg))

    def _on_inputs_changed(self, *_: Any) -> None:
        s = self.state
        model = s.model_ref or "no model chosen"
        data = Path(s.data_path).name if s.data_path else "no data chosen"
        allowed = [CONSENT_SHOWN[n] for n, given in s.consent_for(s.model_ref).items() if given]
        model += f" ({', '.join(allowed)})" if allowed else ""
        self.subtitle.setText(f"Model: {model}   ·   Data: {data}")
        self.settings.inputs_changed()

    # ---- training ----------------------------------------------------------------------------------------
    def is_training(self) -> bool:
        return self.worker.is_running()

    def start_training(self) -> bool:
        """Write a new run folder from the form and start the worker on it. False (and a banner) if not."""
        if self.worker.is_running():
            return False
        if not self.settings.advised and self.state.model_ref and self.state.data_path:
            self.state.show_status("Still checking what fits this machine: Start is ready in a moment.")
            return False
        if not (self.state.model_ref and self.state.data_path):
            self.banner.show_error(
                "Choose a model and a dataset first.", "Use the Machine & model and Data steps."
            )
            return False
        if self.state.missing_consents():  # the worker would refuse the model: say so in the app's words
            self.banner.show_error("This model can run code on this computer: TuneDesk does not train it "
                                   "unless you allow it.", GUI_CONSENT_HINT)  # fmt: skip
            return False
        try:
            config = runs.RunConfig(
                model=self.state.model_ref,
                data=self.state.data_path,
                preset=self.form.preset(),
                device=self.settings.advised_device,
                processes=self.settings.processes.processes(),
                **self.state.consent_for(self.state.model_ref),  # that model's consent alone, recorded
            )
            layout = runs.create_run(config)
        except TuneDeskError as err:
            self.banner.show_error(err.message, err.hint)
            return False
        except OSError as err:
            self.banner.show_error(f"Could not create the run folder: {err}", "Check the disk has space.")
            return False
        self._begin(layout.root, history=[])
        return True

    def continue_run(self, run_dir: str) -> None:
        """Continue a stopped run from its last checkpoint (the worker resumes a run that has checkpoints)."""
        if self.worker.is_running():
            return
        self._begin(Path(run_dir), history=read_events(runs.RunLayout(Path(run_dir)).events))

    def _begin(self, root: Path, history: list[dict[str, Any]]) -> None:
        try:  # several processes: accelerate's launcher (core/training/launcher.py); one: the plain worker
            config = runs.load_config(root)
            command = train_command(runs.RunLayout(root), config) if config.processes > 1 else None
        except TuneDeskError as err:
            self.banner.show_error(err.message, err.hint)
            return
        self._show_run(root, history, config)
        self.banner.hide()
        self._started_at = time.monotonic()
        self.stats.set_state("Starting… (loading the model can take a minute)")
        self._set_running(True)
        self.state.set_run_dir(str(root))
        self.state.set_training(True)
        self.worker.start_detached(["train", str(root)], root, command=command)

    def pause(self) -> None:
        if self.worker.send("pause"):
            self.stats.set_state("Pausing after this step…")

    def resume(self) -> None:
        if self.worker.send("resume"):
            self.stats.set_state("Resuming…")

    def cancel(self) -> None:
        if self.worker.cancel():
            self.stats.set_state("Stopping after this step and saving a checkpoint…")
            self.cancel_button.setEnabled(False)

    def detach(self) -> None:
        """Leave the run training in the background (the window is closing); the Runs page can re-attach."""
        self.worker.detach()
        self.state.set_training(False)

    # ---- showing a run ------------------------------------------------------------------------------------
    def _on_run_changed(self, run_dir: str) -> None:
        if run_dir and run_dir != self._run_dir and not self.worker.is_running():
            self.load_run(run_dir)

    def load_run(self, run_dir: str) -> None:
        """Show a run: its settings, curves, samples and log; follow it live if its worker still runs."""
        layout = runs.RunLayout(Path(run_dir))
        try:
            config = runs.load_config(layout.root)
        except TuneDeskError as err:
            self.banner.show_error(err.message, err.hint)
            return
        self.settings.adopt_run(config)
        if runs.worker_alive(layout):
            self._show_run(layout.root, [], config)
            self._started_at = time.monotonic()
            self._set_running(True)
            self.state.set_training(True)
            self.worker.attach(layout.root)  # replays events.jsonl, then follows it
            return
        self._show_run(layout.root, read_events(layout.events), config)
        self._set_running(False)  # offers the export when the run has an adapter
        summary = runs.summarize_run(layout.root)
        self.stats.set_state(run_status.sentence(summary.status))
        if summary.resumable and summary.status != "new":
            self.banner.show_info(
                f"This run stopped at step {summary.step} of {summary.total_steps}.",
                "It has a checkpoint: training can continue from there.",
                action="Continue training",
            )

    def _show_run(self, root: Path, history: list[dict[str, Any]], config: runs.RunConfig) -> None:
        self._run_dir = str(root)
        self.monitor.clear_run(config.preset.pause_on_battery_below)
        self.banner.hide()
        self._stderr_tail.clear()
        for ev in history:
            self.handle_event(ev)
        self.curves.redraw()

    def _on_banner_action(self) -> None:
        if self._run_dir and not self.worker.is_running():
            self.continue_run(self._run_dir)

    # ---- events -------------------------------------------------------------------------------------------
    def handle_event(self, ev: dict[str, Any]) -> None:
        kind = ev.get("event")
        self.monitor.add_event(ev)
        if kind in ("started", "resumed", "paused") and self._paused != (kind == "paused"):
            self._paused = kind == "paused"
            self.paused_changed.emit(self._paused)
        elif kind == "error":  # a refused model's hint names CLI flags; the app has its own way
            hint = GUI_CONSENT_HINT if ev.get("kind") == "unsafe_model" else str(ev.get("hint") or "")
            self.banner.show_error(str(ev.get("message", "")), hint, ev.get("traceback") or "")
        if self.worker.is_running():
            self._set_running(True)

    def _on_stderr(self, line: str) -> None:
        self._stderr_tail.append(line)
        self.log.append_line(line)

    def _on_worker_finished(self, outcome: ProcessOutcome) -> None:
        elapsed = time.monotonic() - self._started_at if self._started_at else 0.0
        self.curves.redraw()  # the last points now, not after the redraw delay
        self._set_running(False)
        self.state.set_training(False)
        status = outcome.status
        self.monitor.show_status(status)
        if status == "crashed" and outcome.error() is None:
            self.banner.show_error(
                "The training process stopped unexpectedly.",
                "Continue from the last checkpoint; if it happens again, the log below says why.",
                "\n".join(self._stderr_tail),
                action="Continue training",
            )
        self.state.show_status(f"{run_status.sentence(status)}.")
        self.run_finished.emit(outcome, elapsed)

    def _fail_to_start(self, message: str) -> None:
        self._set_running(False)
        self.state.set_training(False)
        self.banner.show_error(message, "Check that TuneDesk is installed completely (`tunedesk doctor`).")

    def _set_running(self, running: bool) -> None:
        ready, advised = bool(self.state.model_ref and self.state.data_path), self.settings.advised
        exportable = not running and self._exportable()
        self.monitor.set_controls(
            running=running, paused=self._paused, ready=ready, advised=advised, exportable=exportable
        )
        self.settings.set_training(running)

    def _exportable(self) -> bool:
        summary = runs.summarize_run(self._run_dir) if self._run_dir else None
        return summary is not None and (summary.has_adapter or run_status.is_success(summary.status))

    def export_run(self) -> None:
        """The offer at a run's end: the Export page, with this run chosen."""
        self.state.set_run_dir(self._run_dir)
        self.state.go_to("export")
