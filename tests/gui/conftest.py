"""Fixtures of the GUI tests: settings in a temp folder, the fake worker, and worker teardown."""

from __future__ import annotations

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
