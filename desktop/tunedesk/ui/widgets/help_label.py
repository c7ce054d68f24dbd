"""The app's help text: a small, muted, word-wrapped line under a setting or a card's content."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from tunedesk.ui.style import set_role


def help_label(text: str) -> QLabel:
    """A word-wrapped label in the "help" role (empty text is fine: pages fill it in later)."""
    label = QLabel(text)
    label.setWordWrap(True)
    set_role(label, "help")
    return label
