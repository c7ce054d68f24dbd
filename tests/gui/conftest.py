"""Fixtures of the GUI tests: settings in a temp folder, the fake worker, and worker teardown."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings
from shiboken6 import Shiboken

FAKE_WORKER = Path(__file__).with_name("fake_worker.py")


@pytest.fixture(autouse=True)
def qsettings_in_tmp(tmp_path: Path) -> Iterator[Path]:
    """No test reads or writes the user's real settings (napari's pattern)."""
    folder = tmp_path / "settings"
    folder.mkdir()
    QCoreApplication.setOrganizationName("TuneDeskTests")
    QCoreApplication.setApplicationName("TuneDeskTests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


@pytest.fixture
def fake_worker() -> list[str]:
    """The command line of the fake worker; append a mode (see fake_worker.py)."""
    return [sys.executable, str(FAKE_WORKER)]


@pytest.fixture
def stop_workers(qtbot):  # type: ignore[no-untyped-def]
    """Collects WorkerProcess objects and makes sure none outlives its test: terminate, then kill."""
    workers: list = []
    yield workers.append
    for worker in workers:
        # pytest-qt closes and deletes the test's widgets first; a worker deleted with its page was killed
        # by QProcess's destructor already.
        if Shiboken.isValid(worker) and worker.is_running():
            worker.kill_timeout_ms = 2000
            worker.terminate()
            qtbot.waitUntil(lambda w=worker: not Shiboken.isValid(w) or not w.is_running(), timeout=5000)


HEAVY_MODULES = ("llama_cpp", "torch", "transformers")


def _heavy_imports_after(module: str, page: str, cleanup: str = "pass") -> list[str]:
    """Which heavy modules a fresh process has imported after building `page` from `module` (should be none).

    A fresh process: this test process has long imported them through other tests.
    """
    code = (
        "import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
        f"from tunedesk.ui.app_state import AppState; from {module} import {page};"
        f"page = {page}(AppState()); {cleanup};"
        f"print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return eval(out.stdout.strip().splitlines()[-1])  # noqa: S307 - a list literal this code printed


@pytest.fixture
def heavy_imports_after():  # type: ignore[no-untyped-def]
    """`heavy_imports_after(module, page_class, cleanup="")`: see _heavy_imports_after."""
    return _heavy_imports_after


@pytest.fixture
def window(qtbot, stop_workers):  # type: ignore[no-untyped-def]
    """The main window, shown; its training worker and advisor never outlive the test."""
    from tunedesk.ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    stop_workers(w.train_page.worker)
    stop_workers(w.train_page.advisor.process)
    w.show()
    return w


def _answer_close_dialog(text: str) -> None:
    """Click the close dialog's button named `text` once it is up (it runs its own event loop)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    def click() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        next(b for b in box.buttons() if b.text() == text).click()

    QTimer.singleShot(100, click)


@pytest.fixture
def answer_close_dialog():  # type: ignore[no-untyped-def]
    return _answer_close_dialog
