"""The Train page's settings panel: core's advice for this machine, model and data, and the preset form.

The panel asks the core (SettingsAdvisor: `tunedesk doctor --json` in a subprocess) which preset suits the
inputs and how much memory it needs, shows the estimate above the form, and puts the advised preset into the
app state. Values the user chose (here or on another page) are kept when the advice is renewed.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QScrollArea, QWidget

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.preset import Preset, apply_overrides
from tunedesk.core.runs import RunConfig
from tunedesk.ui.app_state import AppState
from tunedesk.ui.pages.train.estimate_view import EstimateView
from tunedesk.ui.pages.train.preset_form import PresetForm
from tunedesk.ui.pages.train.processes_row import ProcessesRow
from tunedesk.ui.pages.train.run_length import RunLength
from tunedesk.ui.pages.train.settings_advisor import Advice, SettingsAdvisor
from tunedesk.ui.widgets.card import Card

ADVICE_DELAY_MS = 700  # wait for the user to stop typing before asking the core for a new estimate


class TrainSettings(QScrollArea):
    """The "Settings" card (`estimate`, an EstimateView, and `form`, a PresetForm), scrolling vertically.

    Signals:
        advice_changed(): the core has answered for the current inputs, or the inputs changed (see `advised`).
    """

    advice_changed = Signal()

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.advisor = SettingsAdvisor(self)
        self.advised = False  # the core has answered (or failed to) for the current model and data
        self.advised_device = "auto"  # the device the core sized the preset for, recorded in the run
        self._user_fields: dict[str, Any] = {}  # settings the user (or another page) chose: kept on re-advice
        self._applying_advice = False
        self._training = False
        self._build()
        self.advisor.advised.connect(self._on_advice)
        self.form.changed.connect(self._on_form_changed)
        state.preset_changed.connect(self._on_state_preset)
        state.hardware_changed.connect(self.processes.set_hardware)
        self.processes.set_hardware(state.hardware)
        self.processes.spin.valueChanged.connect(
            lambda _n: self.inputs_changed()
        )  # the estimate is per process
        self._advice_timer = QTimer(self)
        self._advice_timer.setSingleShot(True)
        self._advice_timer.setInterval(ADVICE_DELAY_MS)
        self._advice_timer.timeout.connect(self.request_advice)

    def _build(self) -> None:
        card = Card("Settings", "Chosen for this machine, model and data. Change anything you like.")
        self.estimate = EstimateView()
        self.form = PresetForm()
        self.processes = ProcessesRow()
        self.length = RunLength()
        self.length.chosen.connect(self._on_length_chosen)
        card.body.addWidget(self.estimate)
        card.body.addWidget(self.length)
        card.body.addWidget(self.processes)
        card.body.addSpacing(6)
        card.body.addWidget(self.form)
        card.body.addStretch(1)
        self.setWidgetResizable(True)
        self.setWidget(card)
        self.setMinimumWidth(300)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def set_training(self, training: bool) -> None:
        """While a run trains its settings are fixed: the form is locked and advice is not applied."""
        self._training = training
        self.form.setEnabled(not training)
        self.processes.setEnabled(not training)
        self.length.setEnabled(not training)

    def inputs_changed(self) -> None:
        """The model, data or machine changed: the advice is stale until the core answers again."""
        self.advised = False
        if self.state.model_ref and self.state.data_path:
            self._advice_timer.start()
        self.advice_changed.emit()

    def request_advice(self) -> None:
        """Ask the core for the preset and memory estimate of this model, data and machine (a subprocess)."""
        if self.state.model_ref and self.state.data_path:
            self.estimate.set_busy()
            consent = self.state.consent_for(self.state.model_ref)
            self.advisor.request(
                self.state.model_ref,
                self.state.data_path,
                self._user_fields,
                consent,
                processes=self.processes.processes(),
            )

    def adopt_run(self, config: RunConfig) -> None:
        """Show a run's own model, data and settings; they stay as they are when the advice is renewed."""
        self._applying_advice = True
        try:
            self.state.set_model_ref(config.model)
            self.state.set_data_path(config.data)
            self.state.set_preset(config.preset)
            self._user_fields = {k: v for k, v in config.preset.to_dict().items() if k != "name"}
        finally:
            self._applying_advice = False

    def _on_advice(self, advice: Advice) -> None:
        self.advised = True
        self.advised_device = str((advice.estimate or {}).get("device") or "auto")
        self.advice_changed.emit()
        self.estimate.set_estimate(advice.estimate, advice.notes)
        self.length.set_estimate(advice.duration, self.form.rows["max_steps"].value())
        if advice.error:
            self.estimate.verdict.setText(f"No memory estimate: {advice.error}")
        if advice.preset is None or self._training:
            return
        try:
            suggested = apply_overrides(
                Preset.from_dict(advice.preset), self._user_fields, source="your settings"
            )
        except TuneDeskError:
            return
        self._applying_advice = True
        try:
            self.state.set_preset(suggested)
        finally:
            self._applying_advice = False

    def _on_state_preset(self, preset: Preset | None) -> None:
        if preset is None:
            return
        if not self._applying_advice:
            # Another page (or the user here) chose these values: keep them when the advice is renewed.
            old = self.form.current_base()
            self._user_fields.update(
                {k: v for k, v in preset.to_dict().items() if k != "name" and getattr(old, k) != v}
            )
        self.form.set_preset(preset)
        self.length.set_max_steps(preset.max_steps)

    def _on_length_chosen(self, max_steps: int) -> None:
        self.form.rows["max_steps"].set_value(max_steps)
        self._on_form_changed()

    def _on_form_changed(self) -> None:
        try:
            preset = self.form.preset()
        except TuneDeskError:
            return
        self.state.set_preset(preset)
        self._advice_timer.start()
