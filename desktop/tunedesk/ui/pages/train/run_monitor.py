"""The Train page's live view of a run: its controls and stats, the curves, sample answers and the log.

It is fed the worker's protocol events (`add_event`), live or replayed from a run folder's events.jsonl, and
shows each in the panel it belongs to. Deciding what the buttons may do is the page's.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from tunedesk.core import status as run_status
from tunedesk.core.data.advice import base_already_good
from tunedesk.core.data.general_prompts import fraction_note
from tunedesk.core.report.verdict import forgetting_verdict
from tunedesk.ui.pages.train.log_view import LogView
from tunedesk.ui.pages.train.run_stats import RunStats
from tunedesk.ui.pages.train.samples_view import SamplesView
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.curves import TrainingCurves
from tunedesk.ui.widgets.hold_height import hold_height

START_TIP = "Start a new run with these settings (F5)"
SAMPLES_TAB = "Sample answers"
RESUME_TIP = "Continue a paused run (Ctrl+R)"
# While the worker waits for mains power, Resume is the user's "go on anyway" (core/training/power.py).
RESUME_ON_BATTERY_TIP = (
    "Continue now, on battery: no more pauses for the battery until it is plugged in (Ctrl+R)"
)


def pause_sentence(ev: dict[str, Any], pause_below: int) -> str:
    """The state line of a paused run: why it paused, and for a low battery what ends the pause."""
    text = f"Paused at step {ev.get('step')}"
    if ev.get("reason") != "battery":
        return text
    below = f" below {pause_below} %" if pause_below else ", low"
    return f"{text}: on battery{below}; resumes on mains power"


class RunMonitor(QWidget):
    """Buttons and `stats` (RunStats) over `tabs`: `curves` (TrainingCurves), `samples` and `log`.

    The curves, the sample answers and the log share one card, a tab each, so each gets the card's full
    height: the answers of a check stay readable, all its prompts at once (they once had a strip of one row).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pause_below = 0  # the shown run's battery threshold (%): its events do not carry it
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(14)
        layout.addWidget(self._run_card())
        layout.addWidget(self._details_card(), 1)

    def _run_card(self) -> Card:
        card = Card()
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start training")
        set_role(self.start_button, "primary")
        self.start_button.setToolTip(START_TIP)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause after this step; nothing is lost (Ctrl+P)")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip(RESUME_TIP)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after this step, saving a checkpoint you can continue (Ctrl+.)")
        for b in (self.start_button, self.pause_button, self.resume_button, self.cancel_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        card.body.addLayout(buttons)
        self.stats = RunStats()
        hold_height(self.stats)
        card.body.addWidget(self.stats)
        # The way on once the run has an adapter: the Export page, with this run chosen. A row of its own, so
        # the controls' row stays narrow enough for a small screen.
        self.export_button = QPushButton("Next: export this run  →")
        set_role(self.export_button, "primary")
        self.export_button.setToolTip("Turn this run into one GGUF file for Ollama, LM Studio or Chat")
        next_row = QHBoxLayout()
        next_row.addStretch(1)
        next_row.addWidget(self.export_button)
        card.body.addLayout(next_row)
        # After a run: why it stopped early, if it did, and its forgetting measure in words
        # (core/report/verdict.py) with the remedy when general ability dropped.
        self.outcome_notes = QLabel("")
        self.outcome_notes.setWordWrap(True)
        self.outcome_notes.setVisible(False)
        self._mix_note: str | None = None  # less general data mixed in than chosen, in words
        self._fraction: float | None = (
            None  # the run's general_data_fraction: the remedy raises it from there
        )
        card.body.addWidget(self.outcome_notes)
        hold_height(
            card
        )  # those notes wrap on a small screen: the card grows rather than squeezing the stats
        return card

    def _details_card(self) -> Card:
        self.tabs = QTabWidget()
        self.curves = TrainingCurves()
        self.samples = SamplesView()
        self.log = LogView()
        self.tabs.addTab(self.curves, "Progress")
        self.tabs.addTab(self.samples, SAMPLES_TAB)
        self.tabs.addTab(self.log, "Log")
        self.samples.check_added.connect(self._on_check_added)
        card = Card()
        card.body.addWidget(self.tabs)
        return card

    def _on_check_added(self, step: int) -> None:
        # The tab says new answers came in, so they are noticed while the curves are in front.
        self.tabs.setTabText(self.tabs.indexOf(self.samples), f"{SAMPLES_TAB} (step {step})")

    def set_controls(
        self, *, running: bool, paused: bool, ready: bool, advised: bool, exportable: bool
    ) -> None:
        """What the buttons may do now; "Time left" counts down only while running.

        `ready`: a model and data are chosen; `advised`: the core has chosen settings for them (a run started
        a moment earlier would train with generic defaults); `exportable`: the shown run has an adapter.
        """
        self.start_button.setEnabled(not running and ready and advised)
        tip = START_TIP if ready else "Choose a model and data first."
        self.start_button.setToolTip(tip if advised or not ready else "Checking what fits this machine…")
        self.export_button.setVisible(exportable and not running)
        self.pause_button.setEnabled(running and not paused)
        self.resume_button.setEnabled(running and paused)
        self.cancel_button.setEnabled(running)
        self.stats.set_following(running)

    def clear_run(self, pause_below: int = 0) -> None:
        """Empty every panel before another run is shown (`pause_below`: its battery threshold, %)."""
        self._pause_below = pause_below
        self.curves.clear()
        self.samples.clear_samples()
        self.tabs.setTabText(self.tabs.indexOf(self.samples), SAMPLES_TAB)
        self.log.clear()
        self.stats.reset()
        self.outcome_notes.clear()
        self.outcome_notes.setVisible(False)
        self._mix_note = self._fraction = None

    def add_event(self, ev: dict[str, Any]) -> None:
        """One protocol event: the curves, stats and samples take what they need; the state line and the log
        say what happened."""
        kind = ev.get("event")
        self.curves.add_event(ev)
        self.stats.add_event(ev)
        self.samples.add_event(ev)
        if kind == "started":
            resumed = ev.get("resumed_from_step")
            self.stats.set_state(f"Training (continued from step {resumed})" if resumed else "Training")
            device = f" on {ev['device']}" if ev.get("device") else ""
            self.log.append_line(f"Started: {ev.get('total_steps')} steps{device}.")
            # Less general data than chosen (a large task): said while it trains, and kept after it ends.
            self._fraction = ev.get("general_data_fraction")
            self._mix_note = fraction_note(self._fraction, ev.get("general_fraction_used"))
            self.outcome_notes.setText(self._mix_note or "")
            self.outcome_notes.setVisible(bool(self._mix_note))
        elif kind == "paused":
            self.stats.set_state(pause_sentence(ev, self._pause_below))
            self.resume_button.setToolTip(
                RESUME_ON_BATTERY_TIP if ev.get("reason") == "battery" else RESUME_TIP
            )
        elif kind == "resumed":
            self.stats.set_state("Training")
            self.resume_button.setToolTip(RESUME_TIP)
        elif kind == "checkpoint":
            best = " (best so far)" if ev.get("is_best") else ""
            self.log.append_line(f"Saved a checkpoint at step {ev.get('step')}{best}.")
        elif kind == "log":
            self.log.append_line(str(ev.get("message", "")), str(ev.get("level", "")))
        elif kind == "error":
            self.log.append_line(str(ev.get("message", "")), "error")
        elif kind == "finished":
            self.show_status(str(ev.get("status")))
            # Why it stopped early (the plateau rule's own words), then the forgetting measure in words.
            notes = [str(ev["stop_reason"])] if ev.get("stop_reason") else []
            notes += [self._mix_note] if self._mix_note else []
            verdict = forgetting_verdict(ev.get("forgetting"), self._fraction)
            if verdict is not None:
                notes.append(verdict.text + (f" {verdict.remedy}" if verdict.remedy else ""))
            good = base_already_good(ev.get("base_val_loss"))  # the step-0 check: a prompt may do
            if good is not None:
                notes.append(good.message)
            self.outcome_notes.setText("\n".join(notes))
            self.outcome_notes.setVisible(bool(notes))

    def show_status(self, status: str) -> None:
        """A run's end status (completed, cancelled, ...) in words on the state line."""
        self.stats.set_state(run_status.sentence(status))
