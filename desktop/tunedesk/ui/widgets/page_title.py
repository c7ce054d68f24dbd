"""A page's title and the line under it, as every page of the app starts."""

from __future__ import annotations

from PySide6.QtWidgets import QBoxLayout, QLabel

from tunedesk.ui.style import set_role


def add_page_title(layout: QBoxLayout, title: str, subtitle: str = "") -> QLabel:
    """Add the page's title and subtitle to `layout`; returns the subtitle label (some pages update it)."""
    title_label = QLabel(title)
    set_role(title_label, "title")
    subtitle_label = QLabel(subtitle)
    set_role(subtitle_label, "subtitle")
    layout.addWidget(title_label)
    layout.addWidget(subtitle_label)
    return subtitle_label
