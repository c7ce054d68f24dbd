"""A restrained look: Fusion, a palette that follows the system's light/dark choice, one accent colour.

Widgets mark what they are with a dynamic property (``role``) instead of styling themselves, so the whole look
lives in this one stylesheet: ``QLabel[role="title"]``, ``QFrame[role="card"]``, ``QPushButton[role="primary"]``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

ACCENT = "#3d6fe0"
THEMES = ("system", "light", "dark")

# Curve colours, readable on light and dark backgrounds alike.
TRAIN_COLOR = "#3d6fe0"
VAL_COLOR = "#e0793d"
LR_COLOR = "#2a9d8f"


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme() if hasattr(hints, "colorScheme") else Qt.ColorScheme.Unknown
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    # Unknown (e.g. a bare X server): judge by the default palette's window colour.
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def _palette(dark: bool) -> QPalette:
    p = QPalette()
    if dark:
        colors = {
            QPalette.ColorRole.Window: "#1f2024",
            QPalette.ColorRole.WindowText: "#e6e6e9",
            QPalette.ColorRole.Base: "#26282d",
            QPalette.ColorRole.AlternateBase: "#2c2e34",
            QPalette.ColorRole.Text: "#e6e6e9",
            QPalette.ColorRole.Button: "#2c2e34",
            QPalette.ColorRole.ButtonText: "#e6e6e9",
            QPalette.ColorRole.ToolTipBase: "#2c2e34",
            QPalette.ColorRole.ToolTipText: "#e6e6e9",
            QPalette.ColorRole.PlaceholderText: "#8b8d94",
            QPalette.ColorRole.Mid: "#3a3d44",
        }
    else:
        colors = {
            QPalette.ColorRole.Window: "#f4f5f7",
            QPalette.ColorRole.WindowText: "#1d1f23",
            QPalette.ColorRole.Base: "#ffffff",
            QPalette.ColorRole.AlternateBase: "#f7f8fa",
            QPalette.ColorRole.Text: "#1d1f23",
            QPalette.ColorRole.Button: "#ffffff",
            QPalette.ColorRole.ButtonText: "#1d1f23",
            QPalette.ColorRole.ToolTipBase: "#ffffff",
            QPalette.ColorRole.ToolTipText: "#1d1f23",
            QPalette.ColorRole.PlaceholderText: "#8b8d94",
            QPalette.ColorRole.Mid: "#d9dce1",
        }
    for role, value in colors.items():
        p.setColor(role, QColor(value))
    p.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.Link, QColor(ACCENT))
    disabled = QColor("#6b6e75" if dark else "#a3a6ad")
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def muted_color(dark: bool) -> str:
    """Secondary text (help lines, a list row's details): readable on a card and on a selected row alike."""
    return "#a4a7ae" if dark else "#62666d"  # 4.5:1 on the dark selected row (#24365c) too


def marked_line_color(dark: bool) -> str:
    """The background of a line a problem points at: a soft yellow, a dark amber under light text."""
    return "#5c4a16" if dark else "#fff1c2"


def stylesheet(dark: bool) -> str:
    card = "#26282d" if dark else "#ffffff"
    border = "#34373e" if dark else "#e1e4e8"
    muted = muted_color(dark)
    sidebar = "#18191c" if dark else "#eaecf0"
    hover = "#2a2c31" if dark else "#dfe2e7"
    text = "#e6e6e9" if dark else "#1d1f23"
    indicator = "#9a9ca3" if dark else "#7a7e86"  # radio and check boxes: visible on either background
    focus = "#f0a63c" if dark else "#c2410c"  # keyboard focus: amber, apart from the blue of selection
    focus_on_accent = "#ffd27a" if dark else "#1d1f23"
    return f"""
    QWidget {{ font-size: 10pt; }}
    QLabel[role="title"] {{ font-size: 17pt; font-weight: 600; }}
    QLabel[role="subtitle"] {{ color: {muted}; }}
    QLabel[role="heading"] {{ font-size: 11pt; font-weight: 600; }}
    QLabel[role="help"] {{ color: {muted}; font-size: 9pt; }}
    QLabel[role="metric"] {{ font-size: 15pt; font-weight: 600; }}
    QLabel[role="metric-label"] {{ color: {muted}; font-size: 8.5pt; }}
    QLabel[role="good"] {{ color: #2e9d5b; font-weight: 600; }}
    QLabel[role="bad"] {{ color: #d0453b; font-weight: 600; }}
    QFrame[role="card"] {{ background: {card}; border: 1px solid {border}; border-radius: 10px; }}
    QFrame[role="card"] QLabel {{ background: transparent; border: none; }}
    QFrame[role="banner-error"] {{ background: {"#3b2224" if dark else "#fdecea"};
        border: 1px solid {"#6b3034" if dark else "#f3b7b1"}; border-radius: 8px; }}
    QFrame[role="banner-info"] {{ background: {"#1f2c44" if dark else "#eaf1fd"};
        border: 1px solid {"#2f4a7a" if dark else "#b9cff5"}; border-radius: 8px; }}
    QFrame[role^="banner"] QLabel {{ background: transparent; border: none; }}
    QListWidget#sidebar {{ background: {sidebar}; border: none; padding: 10px 6px; outline: none; }}
    QListWidget#sidebar::item {{ padding: 9px 10px; margin: 1px 4px; border-radius: 7px; }}
    QListWidget#sidebar::item:hover {{ background: {hover}; }}
    QListWidget#sidebar::item:selected {{ background: {ACCENT}; color: white; }}
    QListWidget#sidebar::item:disabled {{ color: {muted}; }}
    QPushButton {{ padding: 6px 14px; border-radius: 6px; border: 1px solid {border}; background: {card}; }}
    QPushButton:hover {{ border-color: {ACCENT}; }}
    QPushButton:disabled {{ color: {"#5d6067" if dark else "#b0b3b9"}; background: transparent;
        border-color: {border}; }}
    QPushButton[role="primary"] {{ background: {ACCENT}; color: white; border: 1px solid {ACCENT};
        font-weight: 600; }}
    QPushButton[role="primary"]:disabled {{ background: {border}; border-color: {border}; color: {muted}; }}
    QPushButton[role="link"] {{ border: none; background: transparent; color: {ACCENT}; padding: 2px 4px; }}
    QProgressBar {{ border: none; border-radius: 4px; background: {border}; height: 8px; text-align: center;
        color: transparent; }}
    QProgressBar::chunk {{ border-radius: 4px; background: {ACCENT}; }}
    QTableWidget, QPlainTextEdit, QTextEdit {{ border: 1px solid {border}; border-radius: 6px; }}
    QHeaderView::section {{ background: transparent; border: none; border-bottom: 1px solid {border};
        padding: 5px 6px; font-weight: 600; color: {muted}; }}
    QTabWidget::pane {{ border: none; }}
    QScrollArea {{ border: none; background: transparent; }}
    QScrollArea > QWidget > QWidget {{ background: transparent; }}
    QListWidget#modelList {{ border: none; background: transparent; }}
    QListWidget#modelList::item {{ border: 1px solid transparent; border-radius: 8px; color: {text}; }}
    QListWidget#modelList::item:selected {{ background: {"#24365c" if dark else "#eaf1fd"};
        border-color: {ACCENT}; color: {text}; }}
    QRadioButton::indicator, QCheckBox::indicator {{ width: 13px; height: 13px; background: {card};
        border: 2px solid {indicator}; }}
    QRadioButton::indicator {{ border-radius: 8px; }}
    QCheckBox::indicator {{ border-radius: 3px; }}
    QRadioButton::indicator:checked {{ border-color: {ACCENT}; background: qradialgradient(cx:0.5, cy:0.5,
        radius:0.5, fx:0.5, fy:0.5, stop:0 {ACCENT}, stop:0.55 {ACCENT}, stop:0.65 {card}, stop:1 {card}); }}
    QCheckBox::indicator:checked {{ border-color: {ACCENT}; background: {ACCENT}; }}
    QRadioButton::indicator:disabled, QCheckBox::indicator:disabled {{ border-color: {border}; }}
    QPushButton:focus, QComboBox:focus, QLineEdit:focus, QSpinBox:focus, QDoubleSpinBox:focus,
    QListWidget:focus, QTableWidget:focus, QPlainTextEdit:focus, QTextEdit:focus {{ border: 2px solid {focus}; }}
    QRadioButton:focus, QCheckBox:focus {{ color: {focus}; }}
    QRadioButton:focus::indicator, QCheckBox:focus::indicator {{ border-color: {focus}; }}
    QPushButton[role="primary"]:focus {{ border: 2px solid {focus_on_accent}; }}
    QListWidget#sidebar:focus {{ border: 2px solid {focus}; }}
    """


def theme_is_dark(theme: str) -> bool:
    """Whether a theme setting ("light", "dark" or "system") means dark here."""
    return system_is_dark() if theme not in ("light", "dark") else theme == "dark"


def apply_theme(app: QApplication, theme: str = "system") -> bool:
    """Apply the look; returns whether it is dark (the curves follow)."""
    dark = theme_is_dark(theme)
    app.setStyle("Fusion")
    app.setPalette(_palette(dark))
    app.setStyleSheet(stylesheet(dark))
    app.setProperty("tunedesk_dark", dark)
    return dark


def is_dark() -> bool:
    app = QApplication.instance()
    return bool(app.property("tunedesk_dark")) if app is not None else False


def set_role(widget: QWidget, role: str) -> QWidget:
    """Mark a widget for the stylesheet (and re-polish it, so a changed role shows at once)."""
    widget.setProperty("role", role)
    widget.style().unpolish(widget)
    widget.style().polish(widget)
    return widget
