"""One key, one action: no shortcut is bound twice, Ctrl+Enter (Return or keypad Enter) sends in Chat, the
View menu names pages as the sidebar does, and Resume is offered only while a run is paused."""

from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QShortcut
from PySide6.QtWidgets import QMenu

from tunedesk.ui.main_window import MainWindow
from tunedesk.ui.pages.chat.message_box import MessageBox

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    return w


def test_no_key_is_bound_twice(window: MainWindow) -> None:
    keys = [s.toString() for a in window.findChildren(QAction) for s in a.shortcuts() if not s.isEmpty()] + [
        s.key().toString() for s in window.findChildren(QShortcut) if not s.key().isEmpty()
    ]
    assert "Ctrl+Return" in keys and "Ctrl+Enter" in keys  # Chat's Send, both Enter keys
    assert [k for k, n in Counter(keys).items() if n > 1] == []


@pytest.mark.parametrize(
    "key, modifiers",
    [
        (Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier),
        (Qt.Key.Key_Enter, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.KeypadModifier),
    ],
)
def test_ctrl_enter_sends(qtbot, key: Qt.Key, modifiers: Qt.KeyboardModifier) -> None:
    box = MessageBox()
    qtbot.addWidget(box)
    box.show()
    qtbot.waitExposed(box)
    box.input.setFocus()
    qtbot.waitUntil(box.input.hasFocus)
    with qtbot.waitSignal(box.send_requested, timeout=2000):
        qtbot.keyClick(box.input, key, modifiers)


def test_view_menu_shows_the_ampersand(window: MainWindow) -> None:
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert isinstance(view, QMenu)
    texts = [a.text() for a in view.actions()]
    assert "Machine && model" in texts  # shown as "Machine & model", not "Machine _model"


def test_resume_only_while_paused(window: MainWindow) -> None:
    window.state.set_training(True)
    page = window.train_page
    page.handle_event({"event": "started", "run_dir": "", "total_steps": 4})
    window._update_availability()
    assert not window.resume_action.isEnabled()
    page.handle_event({"event": "paused", "step": 1})
    assert window.resume_action.isEnabled() and not window.pause_action.isEnabled()
    page.handle_event({"event": "resumed", "step": 1})
    assert not window.resume_action.isEnabled()
