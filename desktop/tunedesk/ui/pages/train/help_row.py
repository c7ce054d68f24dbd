"""A form row that says what its setting means: label, editor, and the field's one-line help beneath."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.help_label import help_label
from tunedesk.ui.widgets.number_fields import PlainDoubleSpinBox, ShareSpinBox


def _label(name: str) -> str:
    return name.replace("_", " ").replace("lora ", "LoRA ").capitalize().replace("Lora ", "LoRA ")


def _is_tiny(value: Any) -> bool:
    return isinstance(value, float) and 0 < abs(value) < 1e-2


def tiny_number_text(value: float) -> str:
    """A learning rate as people write it, the way the help texts do: 2e-4, 1.5e-5 (not 0.0002, 1e-05)."""
    mantissa, exponent = f"{value:.3e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


class HelpRow(QWidget):
    """One setting: an editor chosen from the value's type (or its choices) and its help sentence.

    Signals:
        changed(): the user edited the value.
    """

    changed = Signal()

    def __init__(
        self,
        name: str,
        value: Any,
        help_text: str,
        *,
        choices: tuple[str, ...] = (),
        label: str = "",
        share: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.name = name
        self._type = type(value)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 6)
        layout.setSpacing(3)
        self.label = QLabel(label or _label(name))
        self.label.setStyleSheet("font-weight: 600;")
        layout.addWidget(self.label)
        self.editor = ShareSpinBox(value) if share else self._make_editor(value, choices)
        if share:
            self.editor.valueChanged.connect(self.changed)
        self.editor.setToolTip(help_text)
        self.editor.setAccessibleName(self.label.text())
        self.editor.setAccessibleDescription(help_text)
        layout.addWidget(self.editor)
        self.help = help_label(help_text)
        layout.addWidget(self.help)

    def _make_editor(self, value: Any, choices: tuple[str, ...]) -> QWidget:
        if choices:
            box = QComboBox()
            box.addItems(list(choices))
            box.setCurrentText(str(value))
            box.currentTextChanged.connect(self.changed)
            return box
        if isinstance(value, bool):
            check = QCheckBox("On")
            check.setChecked(value)
            check.toggled.connect(self.changed)
            return check
        if isinstance(value, int):
            spin = QSpinBox()
            spin.setRange(0, 10_000_000)
            spin.setValue(value)
            spin.valueChanged.connect(self.changed)
            return spin
        if isinstance(value, float):
            # Learning rates are tiny and best typed as 2e-4: a text field keeps that notation.
            if _is_tiny(value):
                line = QLineEdit(tiny_number_text(value))
                line.textEdited.connect(self.changed)
                return line
            dspin = PlainDoubleSpinBox()  # epochs: "3", not "3.000"
            dspin.setDecimals(3)
            dspin.setRange(0.0, 1_000_000.0)
            dspin.setSingleStep(0.05 if value < 1 else 1.0)
            dspin.setValue(value)
            dspin.valueChanged.connect(self.changed)
            return dspin
        line = QLineEdit(str(value))
        line.textEdited.connect(self.changed)
        return line

    def value(self) -> Any:
        """The edited value as text or number; the core's apply_overrides converts and validates it."""
        e = self.editor
        if isinstance(e, QComboBox):
            return e.currentText()
        if isinstance(e, QCheckBox):
            return e.isChecked()
        if isinstance(e, ShareSpinBox):
            return e.share()
        if isinstance(e, (QSpinBox, QDoubleSpinBox)):
            return e.value()
        return e.text().strip()

    def set_value(self, value: Any) -> None:
        e = self.editor
        e.blockSignals(True)
        try:
            if isinstance(e, QComboBox):
                e.setCurrentText(str(value))
            elif isinstance(e, QCheckBox):
                e.setChecked(bool(value))
            elif isinstance(e, ShareSpinBox):
                e.set_share(float(value))
            elif isinstance(e, QSpinBox):
                e.setValue(int(value))
            elif isinstance(e, QDoubleSpinBox):
                e.setValue(float(value))
            else:
                text = f"{value:g}" if isinstance(value, float) else str(value)
                e.setText(tiny_number_text(value) if _is_tiny(value) else text)
        finally:
            e.blockSignals(False)

    def set_error(self, message: str) -> None:
        """Show a validation message from the core in place of the help (empty: back to the help)."""
        self.help.setText(message or self.editor.toolTip())
        set_role(self.help, "bad" if message else "help")
