"""BackgroundTasks: results and failures reach the GUI thread in order, and a page deleted while its task
still runs is never touched by that task's thread (this once crashed the whole test process in CI)."""

from __future__ import annotations

import threading

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QThread
from PySide6.QtWidgets import QWidget

from tunedesk.core.errors import TuneDeskError
from tunedesk.ui.background import BackgroundTasks

pytestmark = pytest.mark.gui


def test_results_posts_and_failures_arrive_in_the_gui_thread(qtbot):
    tasks = BackgroundTasks()
    got: list[tuple[str, object, bool]] = []
    gui = QThread.currentThread()
    tasks.done.connect(lambda name, value: got.append((name, value, QThread.currentThread() is gui)))
    tasks.failed.connect(lambda name, err: got.append((name, err, QThread.currentThread() is gui)))
    post = tasks.poster()

    def counting() -> str:
        for i in range(3):
            post("partial", i)
        return "all"

    def failing() -> None:
        raise ValueError("bad header")

    with qtbot.waitSignal(tasks.done, check_params_cb=lambda name, value: value == "all", timeout=5000):
        tasks.run("count", counting)
    assert [v for n, v, _ in got] == [0, 1, 2, "all"]
    with qtbot.waitSignal(tasks.failed, timeout=5000):
        tasks.run("fail", failing)
    name, err, _ = got[-1]
    assert name == "fail" and isinstance(err, TuneDeskError) and "bad header" in err.message
    assert all(in_gui for _, _, in_gui in got)
    qtbot.waitUntil(lambda: not tasks.busy, timeout=5000)
    assert not tasks._timer.isActive()  # nothing polls once every task is done


def test_a_page_deleted_while_its_tasks_run_is_never_touched(qtbot):
    """Many pages, each deleted while its tasks finish and post at that very moment: no crash, no delivery."""
    delivered: list[str] = []
    threads_before = threading.active_count()
    for _ in range(30):
        page = QWidget()
        tasks = BackgroundTasks(page)
        tasks.done.connect(lambda name, value: delivered.append(name))
        post = tasks.poster()
        release = threading.Event()

        def work(post=post, release=release) -> str:
            release.wait(5)
            for i in range(50):
                post("late", i)
            return "late"

        for n in range(4):
            tasks.run(f"t{n}", work)
        page.deleteLater()
        release.set()  # the threads post while the page is being deleted
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        assert not shiboken6.isValid(tasks)
    qtbot.waitUntil(lambda: threading.active_count() <= threads_before, timeout=10000)
    qtbot.wait(100)
    assert delivered == []
