"""Help: the installation check (a `tunedesk self-test` child, shown step by step), files, privacy, About."""

from __future__ import annotations

import sys

import pytest

from tunedesk import __version__
from tunedesk.core.offline import PRIVACY_PROMISE
from tunedesk.core.paths import file_locations
from tunedesk.ui.help_dialogs import CHECK_NAMES, SelfTestDialog

pytestmark = pytest.mark.gui


def _self_test_child(lines: list[str], code: int, then_wait: bool = False) -> list[str]:
    """A stand-in for `tunedesk self-test`: prints its lines the way it does, then exits with `code`."""
    script = f"import sys, time\nfor line in {lines!r}: print(line, flush=True)\n"
    script += "time.sleep(120)\n" if then_wait else f"sys.exit({code})\n"
    return [sys.executable, "-c", script]


def _dialog(qtbot, stop_workers, command: list[str]) -> SelfTestDialog:  # type: ignore[no-untyped-def]
    dialog = SelfTestDialog(command=command)
    qtbot.addWidget(dialog)
    stop_workers(dialog.process)
    dialog.show()
    return dialog


def test_every_step_passing_says_so(qtbot, stop_workers):
    lines = [f"[ok  ] {name:<9} fine  (1 s)" for name in CHECK_NAMES] + ["All checks passed. (5 s)"]
    dialog = _dialog(qtbot, stop_workers, _self_test_child(lines, 0))
    with qtbot.waitSignal(dialog.done, timeout=60_000) as done:
        dialog.start()
    assert done.args == [True] and dialog.passed is True
    assert dialog.progress.value() == len(CHECK_NAMES)
    assert dialog.verdict.text().startswith("✓ Every step works")
    assert "All checks passed." in dialog.output.toPlainText()


def test_a_failed_step_is_the_verdict_and_its_reason_is_shown(qtbot, stop_workers):
    lines = ["[ok  ] hardware  CPU  (2 s)", "[FAIL] tools     converter missing: run `tunedesk setup`  (0 s)"]
    dialog = _dialog(qtbot, stop_workers, _self_test_child(lines, 1))
    with qtbot.waitSignal(dialog.done, timeout=60_000) as done:
        dialog.start()
    assert done.args == [False]
    assert dialog.verdict.text().startswith("✗ Something does not work")
    assert dialog.progress.value() == 2  # hardware and tools reported
    assert "converter missing" in dialog.output.toPlainText()


def test_progress_shows_while_the_check_runs_and_closing_ends_it(qtbot, stop_workers):
    dialog = _dialog(
        qtbot, stop_workers, _self_test_child(["[ok  ] hardware  CPU  (2 s)"], 0, then_wait=True)
    )
    dialog.start()
    # The event loop keeps running while the child works: the first step shows before the check ends.
    qtbot.waitUntil(lambda: dialog.progress.value() == 1, timeout=60_000)
    assert dialog.process.is_running() and not dialog.done_checking()
    assert "hardware works" in dialog.verdict.text()
    dialog.reject()
    qtbot.waitUntil(lambda: not dialog.process.is_running(), timeout=20_000)


def test_the_help_menu_opens_each_window(qtbot, window):
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    entries = [a.text() for a in help_menu.actions() if a.text()]
    assert entries == ["&Check this installation…", "&Where are my files?", "&Privacy", "&About TuneDesk"]

    files = window.help.show_files()
    qtbot.waitExposed(files)
    for _what, path in file_locations():
        assert str(path) in files.label.text()
    assert files.open_button.text() == "Open the folder"
    assert PRIVACY_PROMISE in window.help.show_privacy().label.text()
    assert f"TuneDesk {__version__}" in window.help.show_about().label.text()


def test_check_this_installation_runs_tunedesk_self_test(qtbot, window, stop_workers):
    dialog = window.help.check_installation()
    stop_workers(dialog.process)
    assert dialog.command[-1] == "self-test" and dialog.process.is_running()
    assert window.help.check_installation() is dialog  # a second click shows the running check
    dialog.reject()  # ends the child: this test does not wait minutes for the real check
    qtbot.waitUntil(lambda: not dialog.process.is_running(), timeout=20_000)
