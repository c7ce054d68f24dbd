"""The question asked when the window is closed while a model trains: stop it, keep it, or stay."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def ask_close_choice(parent: QWidget) -> str:
    """'stop' | 'keep' | 'cancel': what to do with the run that is training."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("A run is training")
    box.setText("A model is still training. What should happen to it?")
    box.setInformativeText(
        "Stop saves a checkpoint you can continue later. Keep training runs on without the window; "
        "the Runs page shows it again when you reopen TuneDesk."
    )
    stop = box.addButton("Stop training", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("Keep training in the background", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(keep)
    box.exec()
    clicked = box.clickedButton()
    return "stop" if clicked is stop else "keep" if clicked is keep else "cancel"
