"""The training settings as a form: the options that matter most, each with one plain sentence, and an
"Advanced" section with every other field of `Preset`. Values are checked by the core (`apply_overrides`)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.preset import Preset, apply_overrides
from tunedesk.ui.pages.train.help_row import HelpRow
from tunedesk.ui.style import set_role

# What a person should see first: the method and the knobs the help texts explain.
MAIN_FIELDS = (
    "method",
    "lora_r",
    "lora_alpha",
    "learning_rate",
    "lr_schedule",
    "warmup_ratio",
    "decay_ratio",
    "epochs",
    "seq_len",
    "early_stopping_patience",
    # On a laptop: a run left overnight neither sleeps nor drains the battery flat.
    "prevent_sleep",
    "pause_on_battery_below",
)
# Shares of 0..1, shown as percentages like the Data page's validation share (the preset keeps 0..1).
SHARE_FIELDS = (
    "warmup_ratio",
    "decay_ratio",
    "val_fraction",
    "general_data_fraction",
    "lora_dropout",
    "min_improvement",
)
HIDDEN_FIELDS = ("name",)  # shown as the preset's title instead
LABELS = {
    "lora_r": "Rank (r)",
    "lora_alpha": "Alpha",
    "lr_schedule": "Learning-rate schedule",
    "warmup_ratio": "Warm-up share",
    "decay_ratio": "Decay share",
    "early_stopping_patience": "Early stopping patience",
    "max_steps": "Max steps",
    "seq_len": "Sequence length",
    "grad_accum": "Gradient accumulation",
    "val_fraction": "Validation share",
    "general_data_fraction": "General data share",
    "prevent_sleep": "Keep the computer awake",
    "pause_on_battery_below": "Pause on battery below (%)",
}


class PresetForm(QWidget):
    """Signals:
    changed(): the user edited a value (call `preset()` to get the checked result).
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base = Preset()
        self.rows: dict[str, HelpRow] = {}
        helps = Preset.field_help()
        choices = {f.name: tuple(f.metadata.get("choices", ())) for f in fields(Preset)}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.preset_name = QLabel()
        set_role(self.preset_name, "help")
        layout.addWidget(self.preset_name)
        for name in MAIN_FIELDS:
            layout.addWidget(self._row(name, helps[name], choices[name]))
        self.advanced_button = QPushButton("Show advanced settings")
        set_role(self.advanced_button, "link")
        self.advanced_button.setCheckable(True)
        self.advanced_button.toggled.connect(self._toggle_advanced)
        layout.addWidget(self.advanced_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.advanced = QWidget()
        adv = QVBoxLayout(self.advanced)
        adv.setContentsMargins(0, 0, 0, 0)
        adv.setSpacing(4)
        for f in fields(Preset):
            if f.name not in MAIN_FIELDS and f.name not in HIDDEN_FIELDS:
                adv.addWidget(self._row(f.name, helps[f.name], choices[f.name]))
        self.advanced.hide()
        layout.addWidget(self.advanced)
        self.set_preset(self._base)

    def _row(self, name: str, help_text: str, choices: tuple[str, ...]) -> HelpRow:
        row = HelpRow(
            name,
            getattr(self._base, name),
            help_text,
            choices=choices,
            label=LABELS.get(name, ""),
            share=name in SHARE_FIELDS,
        )
        row.changed.connect(self._on_changed)
        self.rows[name] = row
        return row

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_button.setText("Hide advanced settings" if shown else "Show advanced settings")

    def set_preset(self, preset: Preset) -> None:
        """Show `preset` (e.g. the core's choice for this machine, model and data)."""
        self._base = preset
        for name, row in self.rows.items():
            value = getattr(preset, name)
            # Leave a row alone when it already says this (it may be the one being typed into).
            if str(row.value()) != str(value) and not _same_number(row.value(), value):
                row.set_value(value)
            row.set_error("")
        self.preset_name.setText(f"Starting point: the '{preset.name}' preset")

    def current_base(self) -> Preset:
        """The preset last shown (without the user's unsaved edits)."""
        return self._base

    def overrides(self) -> dict[str, Any]:
        """The fields the user changed from the shown preset."""
        out: dict[str, Any] = {}
        for name, row in self.rows.items():
            value = row.value()
            if str(value) != str(getattr(self._base, name)) and not _same_number(
                value, getattr(self._base, name)
            ):
                out[name] = value
        return out

    def preset(self) -> Preset:
        """The shown preset with the user's edits, validated by the core; a TuneDeskError marks its field."""
        for row in self.rows.values():
            row.set_error("")
        try:
            return apply_overrides(self._base, self.overrides(), source="the form")
        except TuneDeskError as err:
            row = self.rows.get(str(err.where.get("field", "")))
            if row is not None:
                row.set_error(err.message)
                if row.parent() is self.advanced and not self.advanced.isVisible():
                    self.advanced_button.setChecked(True)
            raise

    def _on_changed(self) -> None:
        try:
            self.preset()
        except TuneDeskError:
            pass  # shown on its row; Start re-checks
        self.changed.emit()


def _same_number(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False
