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

# Verification keys in plain words; unknown keys are shown with their own name, so nothing is hidden.
CHECK_LABELS = {
    "passed": "Passed every check",
    "chat_template": "Chat template embedded in the file",
    "end_of_turn_token": "End-of-turn token",
    "stops_at_end_of_turn": "Stops at the end of its turn",
    "stop_rate": "Answers that stopped at the end of their turn",
    "stop_rate_merged": "… the same for the merged model",
    "agreement": "Answers identical to the merged model's",
    "token_agreement": "Words shared with the merged model's answers",
    "tokenizer_match": "Tokenizer agrees with the merged model",
    "perplexity_merged": "Perplexity of the merged model (lower is better)",
    "perplexity_gguf": "Perplexity of the GGUF file (lower is better)",
    "prompts": "Held-out prompts checked",
}
PERCENT_KEYS = {"stop_rate", "stop_rate_merged", "agreement", "token_agreement", "tokenizer_match"}


def describe_check(key: str, value: Any) -> tuple[str, str]:
    """One verification result as (label, readable value)."""
    label = CHECK_LABELS.get(key, key.replace("_", " ").capitalize())
    if value is None:
        return label, "not measured"
    if isinstance(value, bool):
        return label, "Yes  ✓" if value else "No  ✕"
    if key in PERCENT_KEYS and isinstance(value, (int, float)):
        return label, f"{value:.0%}"
    if isinstance(value, float):
        return label, f"{value:.2f}"
    if isinstance(value, dict):
        return label, ", ".join(f"{k}: {describe_check(k, v)[1]}" for k, v in value.items())
    return label, str(value)


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
                item.widget().deleteLater()
        self.checks_title.hide()

    def show_checks(self, detail: dict) -> None:
        self.clear_checks()
        order = list(CHECK_LABELS)  # the most telling checks first, whatever order the event carried
        items = sorted(detail.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
        for i, (key, value) in enumerate(items):
            label, shown = describe_check(key, value)
            value_label = QLabel(shown)
            value_label.setObjectName("checkValue")
            self.checks.addWidget(QLabel(label), i, 0)
            self.checks.addWidget(value_label, i, 1, Qt.AlignmentFlag.AlignRight)
        self.checks_title.show()
