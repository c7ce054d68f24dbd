"""The Export page's progress card: the four stage rows, one progress bar, and the verification checks in words.

It only shows what the export worker's `stage` events say (merge, convert, quantize, verify); the page feeds it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QWidget

from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.card import Card

STAGES = (
    ("merge", "Merge the adapter into the model"),
    ("convert", "Convert to GGUF"),
    ("quantize", "Quantize"),
    ("verify", "Check the file"),
)
ICONS = {"waiting": "○", "running": "◐", "done": "✓", "failed": "✕"}


class ExportProgress(Card):
    """Stage rows (icon and text), an overall progress bar, and the verification results once known."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Progress", parent=parent)
        lay = self.body
        self.stage_rows: dict[str, tuple[QLabel, QLabel]] = {}
        grid = QGridLayout()
        grid.setVerticalSpacing(6)
        for i, (stage, text) in enumerate(STAGES):
            icon, label = QLabel(ICONS["waiting"]), QLabel(text)
            icon.setObjectName("stageIcon")
            icon.setFixedWidth(22)
            label.setWordWrap(True)
            grid.addWidget(icon, i, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(label, i, 1)
            self.stage_rows[stage] = (icon, label)
        grid.setColumnStretch(1, 1)
        lay.addLayout(grid)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        lay.addWidget(self.progress)
        self.checks_title = QLabel("Checks")
        set_role(self.checks_title, "heading")
        self.checks = QGridLayout()
        self.checks.setColumnStretch(0, 1)
        lay.addWidget(self.checks_title)
        lay.addLayout(self.checks)
        self.checks_title.hide()
        lay.addStretch(1)

    def reset(self) -> None:
        """Back to before an export: every stage waiting, an empty bar, no checks."""
        self.clear_checks()
        for stage, _text in STAGES:
            self.set_stage(stage, "waiting", "")
        self.progress.setValue(0)

    def complete(self) -> None:
        self.progress.setValue(self.progress.maximum())

    def show_stage_event(self, ev: dict[str, Any]) -> None:
        """A `stage` event: its row, the bar, and the checks when the verify stage carries them."""
        self.set_stage(ev["stage"], ev["status"], ev.get("message", ""))
        self.update_progress(ev["stage"], ev["status"], ev.get("fraction"))
        detail = ev.get("detail")
        if ev["stage"] == "verify" and isinstance(detail, dict):
            self.show_checks(detail)

    def set_stage(self, stage: str, status: str, message: str) -> None:
        if stage not in self.stage_rows:
            return
        icon, label = self.stage_rows[stage]
        icon.setText(ICONS.get(status, "○"))
        set_role(icon, {"done": "good", "failed": "bad"}.get(status, "heading"))
        text = dict(STAGES)[stage]
        label.setText(f"<b>{text}</b><br><span>{message}</span>" if message else text)

    def update_progress(self, stage: str, status: str, fraction: float | None) -> None:
        names = [s for s, _ in STAGES]
        if stage not in names:
            return
        done = names.index(stage) + (1.0 if status == "done" else float(fraction or 0.0))
        self.progress.setValue(max(self.progress.value(), int(1000 * done / len(names))))

    def clear_checks(self) -> None:
        while self.checks.count():
            item = self.checks.takeAt(0)
            if item.widget():
                item.widget().hide()  # at once: deleteLater waits for the event loop, drawn over until then
                item.widget().deleteLater()
        self.checks_title.hide()

    def show_checks(self, detail: dict) -> None:
        """The verdict in one sentence first, then each figure with its meaning as a tooltip (core.export.verdict)."""
        from tunedesk.core.export.verdict import verification_figures, verification_verdict

        self.clear_checks()
        verdict = QLabel(verification_verdict(detail))
        verdict.setWordWrap(True)
        verdict.setObjectName("checkVerdict")
        self.checks.addWidget(verdict, 0, 0, 1, 2)
        for i, figure in enumerate(verification_figures(detail), start=1):
            name, value_label = QLabel(figure.name), QLabel(figure.value)
            name.setWordWrap(True)  # "Answers that stopped cleanly (trained model)" must not widen the page
            value_label.setObjectName("checkValue")
            for label in (name, value_label):
                label.setToolTip(figure.meaning)
            self.checks.addWidget(name, i, 0)
            self.checks.addWidget(value_label, i, 1, Qt.AlignmentFlag.AlignRight)
        self.checks_title.show()
