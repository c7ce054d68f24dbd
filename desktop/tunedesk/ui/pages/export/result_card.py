"""The Export page's result card: where the GGUF file is, what to do with it, and its Ollama Modelfile."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QWidget

from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.elided_label import ElidedLabel
from tunedesk.ui.widgets.help_label import help_label


class ExportResult(Card):
    """The exported file and its Modelfile; the page connects the buttons (open, chat, copy)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Use it", parent=parent)
        lay = self.body
        # The file's name, then its folder: both shortened to fit (a path has nowhere to wrap); the tooltips
        # and "Open folder" have them whole.
        self.gguf_label = ElidedLabel("Nothing exported yet.", bold=True)
        self.folder_label = ElidedLabel()
        set_role(self.folder_label, "help")
        self.folder_label.hide()
        lay.addWidget(self.gguf_label)
        lay.addWidget(self.folder_label)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open folder")
        self.chat_button = QPushButton("Next: chat with it  →")
        set_role(self.chat_button, "primary")
        self.copy_button = QPushButton("Copy Modelfile")
        for b in self.buttons():
            b.setEnabled(False)
        row.addWidget(self.open_button)
        row.addWidget(self.chat_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.modelfile_note = help_label("Ollama Modelfile: written beside the GGUF file by the export.")
        # Copy sits with the Modelfile it copies (three buttons in a row were too wide for a 1024 px screen).
        note_row = QHBoxLayout()
        note_row.addWidget(self.modelfile_note, 1)
        note_row.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(note_row)
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
        self.gguf_label.set_full_text("Nothing exported yet.")
        self.folder_label.hide()
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
        self.gguf_label.set_full_text(Path(gguf).name if gguf else "Done.", tooltip=gguf)
        self.folder_label.set_full_text(str(Path(gguf).parent) if gguf else "")
        self.folder_label.setVisible(bool(gguf))
        self.open_button.setEnabled(bool(gguf))
        self.chat_button.setEnabled(bool(gguf))
        self.copy_button.setEnabled(bool(text))
