"""The Export page's result card: where the GGUF file is, what to do with it, and its Ollama Modelfile."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QWidget

from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.help_label import help_label


class ExportResult(Card):
    """The exported file and its Modelfile; the page connects the buttons (open, chat, copy)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Use it", parent=parent)
        lay = self.body
        self.gguf_label = QLabel("Nothing exported yet.")
        self.gguf_label.setWordWrap(True)
        self.gguf_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.gguf_label)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open folder")
        self.chat_button = QPushButton("Next: chat with it  →")
        set_role(self.chat_button, "primary")
        self.copy_button = QPushButton("Copy Modelfile")
        for b in self.buttons():
            b.setEnabled(False)
            row.addWidget(b)
        row.addStretch(1)
        lay.addLayout(row)
        self.modelfile_note = help_label("Ollama Modelfile: written beside the GGUF file by the export.")
        lay.addWidget(self.modelfile_note)
        self.modelfile = QPlainTextEdit()
        self.modelfile.setReadOnly(True)
        self.modelfile.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)  # a file to copy, not prose
        self.modelfile.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.modelfile.setMinimumHeight(140)
        lay.addWidget(self.modelfile, 1)

    def buttons(self) -> tuple[QPushButton, QPushButton, QPushButton]:
        return self.open_button, self.chat_button, self.copy_button

    def disable_actions(self) -> None:
        for b in self.buttons():
            b.setEnabled(False)

    def clear(self) -> None:
        self.gguf_label.setText("Nothing exported yet.")
        self.modelfile.clear()
        self.disable_actions()

    def show_result(self, gguf: str, modelfile: str) -> None:
        """An export's result: the GGUF path ("" when the worker named none) and the Modelfile's file path."""
        text = ""
        if modelfile and Path(modelfile).is_file():
            text = Path(modelfile).read_text(encoding="utf-8", errors="replace")
        self.modelfile.setPlainText(text)
        if gguf and modelfile:
            from tunedesk.core.export.modelfile import usage_note

            self.modelfile_note.setText(usage_note(modelfile, gguf))
        self.gguf_label.setText(f"<b>{Path(gguf).name}</b><br>{Path(gguf).parent}" if gguf else "Done.")
        self.open_button.setEnabled(bool(gguf))
        self.chat_button.setEnabled(bool(gguf))
        self.copy_button.setEnabled(bool(text))
