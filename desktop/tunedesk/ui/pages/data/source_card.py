"""The Data page's "Dataset" card: which file or folder is in use, its detected format, and how to pick another."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.help_label import help_label

# A badge, so the detected format reads as a finding rather than as part of the path.
BADGE_STYLE = (
    "QLabel { background: rgba(61,111,224,0.12); color: #3d6fe0; border-radius: 9px; padding: 2px 10px;"
    " font-weight: 600; }"
)


class SourceCard(Card):
    """`file_label` and the `format_label` badge; the page connects `open_file_button`,
    `open_folder_button` and `sample_button`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Dataset", parent=parent)
        row = QHBoxLayout()
        self.file_label = QLabel()
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.file_label.setWordWrap(True)  # a long folder wraps: the page never scrolls sideways for it
        self.file_label.setMinimumWidth(120)
        self.format_label = QLabel()
        self.format_label.setStyleSheet(BADGE_STYLE)
        row.addWidget(self.file_label, 1)
        row.addWidget(self.format_label)
        self.body.addLayout(row)
        # The buttons on a row of their own: beside the file they pushed the page wider than a 1024 px screen.
        buttons = QHBoxLayout()
        self.open_file_button = QPushButton("Open file…")
        self.open_folder_button = QPushButton("Open folder of notes…")
        self.sample_button = QPushButton("Use sample data")
        for button in (self.open_file_button, self.open_folder_button, self.sample_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.body.addLayout(buttons)
        self.body.addWidget(
            help_label(
                "Or drop a file here: JSONL, JSON, CSV, TXT or Parquet, or a folder of .txt/.md notes."
            )
        )

    def show_path(self, path: str) -> None:
        """A new file is being read: its name, its folder in grey, and "reading…" until its format is known."""
        self.file_label.setText(
            f"<b>{Path(path).name}</b>  <span style='color:#777'>{Path(path).parent}</span>"
        )
        self.file_label.setToolTip(path)
        self.format_label.setText("reading…")
