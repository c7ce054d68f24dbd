"""The Runs page's list card: what can be done with the selected run, the runs table, or a word when empty."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from tunedesk.ui.pages.runs.runs_table import RunsTable
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.help_label import help_label


class RunsListCard(Card):
    """Action buttons over `table` (RunsTable); `empty` shows instead of the table when there is no run.
    The page connects the buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        actions = QHBoxLayout()
        self.reopen_button = QPushButton("Open in Train")
        self.reopen_button.setToolTip("Show this run's settings, curves and samples on the Train page")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue training from the run's last checkpoint")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Turn this run into a GGUF model file")
        self.report_button = QPushButton("Report")
        self.report_button.setToolTip("Open the before/after report: task and general ability, base vs tuned")
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip(
            "Open two runs side by side: their losses, general ability and settings"
        )
        self.folder_button = QPushButton("Show folder")
        self.delete_button = QPushButton("Delete…")
        for b in (
            self.reopen_button,
            self.resume_button,
            self.export_button,
            self.report_button,
            self.folder_button,
            self.delete_button,
        ):
            actions.addWidget(b)
        actions.addStretch(1)
        self.refresh_button = QPushButton("Refresh")
        set_role(self.refresh_button, "link")
        actions.addWidget(self.refresh_button)
        self.body.addLayout(actions)
        # Compare on a row of its own, beside its help line: the row above is full on a small screen.
        compare = QHBoxLayout()
        self.compare_help = help_label("Select two runs (Ctrl-click the second) to see them side by side.")
        compare.addWidget(self.compare_button)
        compare.addWidget(self.compare_help, 1)
        self.body.addLayout(compare)
        # The selected run's forgetting measure in words (core/report/verdict.py), with the remedy.
        self.forgetting = QLabel("")
        self.forgetting.setWordWrap(True)
        self.body.addWidget(self.forgetting)
        self.table = RunsTable()
        self.body.addWidget(self.table, 1)
        self.empty = QLabel("No runs yet. Start one on the Train page.")
        set_role(self.empty, "subtitle")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.addWidget(self.empty)

    def show_empty(self, empty: bool) -> None:
        self.table.setVisible(not empty)
        self.empty.setVisible(empty)
