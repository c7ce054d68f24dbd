"""The "Next" button at the foot of a page: it leads along Machine -> Data -> Train -> Export -> Chat."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QPushButton

from tunedesk.ui.style import set_role


def add_next_button(layout: QBoxLayout, text: str, on_click: Callable[[], object]) -> QPushButton:
    """A primary button at the right of a new row at the end of `layout`; `text` names the next step."""
    row = QHBoxLayout()
    row.addStretch(1)
    button = QPushButton(f"{text}  →")
    set_role(button, "primary")
    button.clicked.connect(lambda: on_click())
    row.addWidget(button)
    layout.addLayout(row)
    return button
