"""The Export page's "What to export" card: which run, and which of its checkpoints."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QRadioButton, QWidget

from tunedesk.core.runs import RunLayout
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.help_label import help_label

NO_RUNS = "No trained runs yet: train one first"


def _has_weights(folder: Path) -> bool:
    """An adapter (adapter_config.json) or a full model (config.json) was saved there."""
    return (folder / "adapter_config.json").is_file() or (folder / "config.json").is_file()


class RunCard(Card):
    """`run_combo` (each item's data is the run folder), `browse_button`, `best_radio` and `final_radio`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("What to export", parent=parent)
        row = QHBoxLayout()
        self.run_combo = QComboBox()
        self.browse_button = QPushButton("Choose run folder…")
        row.addWidget(self.run_combo, 1)
        row.addWidget(self.browse_button)
        self.body.addLayout(row)
        self.best_radio = QRadioButton("Best checkpoint (lowest validation loss)")
        self.final_radio = QRadioButton("Final checkpoint (the last step)")
        self.best_radio.setChecked(True)
        self.body.addWidget(self.best_radio)
        self.body.addWidget(self.final_radio)
        self.body.addWidget(
            help_label("The best one usually answers better on new data; the final one has trained longest.")
        )
        self.body.addStretch(1)

    @property
    def run_dir(self) -> str:
        return str(self.run_combo.currentData() or "")

    @property
    def checkpoint(self) -> str:
        return "best" if self.best_radio.isChecked() else "final"

    def show_runs(self, paths: list[str], current: str) -> None:
        """Offer `paths` (run folders), `current` selected; no signal fires while the list is rebuilt."""
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        for path in paths:
            self.run_combo.addItem(Path(path).name, path)
        if not paths:
            self.run_combo.addItem(NO_RUNS, "")
        self.run_combo.setCurrentIndex(max(0, self.run_combo.findData(current)))
        self.run_combo.blockSignals(False)

    def show_checkpoints(self) -> None:
        """Offer only the checkpoints the run has (a run stopped before its first check has no best/)."""
        if not self.run_dir:
            return
        layout = RunLayout(Path(self.run_dir))
        best, final = _has_weights(layout.best), _has_weights(layout.adapter)
        only_one = best != final
        self.best_radio.setEnabled(best or not only_one)
        self.final_radio.setEnabled(final or not only_one)
        if only_one:
            (self.best_radio if best else self.final_radio).setChecked(True)
