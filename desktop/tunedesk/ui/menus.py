"""The main window's menus: File, Training, View and Help, each action with its shortcut."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from tunedesk.ui.app_state import PAGE_NAMES
from tunedesk.ui.sidebar import TITLES
from tunedesk.ui.style import THEMES

# The window is main_window.MainWindow; it is not imported here, so menus and the window import one way only.
MainWindow = Any


def _action(
    window: MainWindow, text: str, shortcut: str | QKeySequence.StandardKey | None, slot: object
) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(slot)
    window.addAction(action)  # shortcuts work whatever page has focus
    return action


def build_menus(window: MainWindow) -> None:
    """File, Training, View (pages, theme) and Help; the training actions are kept on the window."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(_action(window, "&Open data…", "Ctrl+O", window.open_data))
    file_menu.addAction(_action(window, "Open &run folder…", None, window.open_run_folder))
    file_menu.addSeparator()
    file_menu.addAction(_action(window, "&Quit", QKeySequence.StandardKey.Quit, window.close))

    train_menu = bar.addMenu("&Training")
    # Ctrl+Enter belongs to Chat's message box (Send): one key, one action.
    window.start_action = _action(window, "&Start training", "F5", window.start_training)
    window.pause_action = _action(window, "&Pause", "Ctrl+P", window.train_page.pause)
    window.resume_action = _action(window, "&Resume", "Ctrl+R", window.train_page.resume)
    window.cancel_action = _action(window, "&Cancel", "Ctrl+.", window.train_page.cancel)
    for action in (window.start_action, window.pause_action, window.resume_action, window.cancel_action):
        train_menu.addAction(action)

    view_menu = bar.addMenu("&View")
    for row, name in enumerate(PAGE_NAMES):
        view_menu.addAction(
            _action(
                window,
                TITLES[name].replace("&", "&&"),  # a single & would be a mnemonic: "Machine _model"
                f"Ctrl+{row + 1}",
                lambda _=False, n=name: window.go_to(n),
            )
        )
    view_menu.addSeparator()
    theme_menu = view_menu.addMenu("&Theme")
    window.theme_group = QActionGroup(window)
    current = str(window.settings.value("theme", "system"))
    for theme in THEMES:
        action = QAction(theme.capitalize(), window, checkable=True)
        action.setChecked(theme == current)
        action.triggered.connect(lambda _=False, t=theme: window.set_theme(t))
        window.theme_group.addAction(action)
        theme_menu.addAction(action)

    help_menu = bar.addMenu("&Help")
    help_menu.addAction(_action(window, "&Check this installation…", None, window.help.check_installation))
    help_menu.addAction(_action(window, "&Where are my files?", None, window.help.show_files))
    help_menu.addAction(_action(window, "&Privacy", None, window.help.show_privacy))
    help_menu.addSeparator()
    help_menu.addAction(_action(window, "&About TuneDesk", None, window.help.show_about))
