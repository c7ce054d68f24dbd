"""The main window: pages in order, availability, shortcuts, drops, settings, and closing during training."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import psutil
import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent

import tunedesk.ui.process.worker_process as worker_process
from tunedesk.core.protocol import EventWriter
from tunedesk.core.runs import RunConfig, create_run
from tunedesk.ui.app_state import PAGE_NAMES
from tunedesk.ui.main_window import MainWindow
from tunedesk.ui.pages.chat.page import ChatPage
from tunedesk.ui.pages.data.page import DataPage
from tunedesk.ui.pages.export.page import ExportPage
from tunedesk.ui.pages.machine.page import MachinePage
from tunedesk.ui.pages.runs.page import RunsPage
from tunedesk.ui.pages.train.page import TrainPage

pytestmark = pytest.mark.gui
FAKE = Path(__file__).with_name("fake_worker.py")


def test_six_pages_in_order_with_sidebar(window):
    kinds = [MachinePage, DataPage, TrainPage, ExportPage, ChatPage, RunsPage]
    assert [type(window.stack.widget(i).widget()) for i in range(6)] == kinds  # each in its scroll area
    assert [window.sidebar.item(i).text() for i in range(6)] == [
        "Machine & model",
        "Data",
        "Train",
        "Export",
        "Chat",
        "Runs",
    ]
    assert window.current_page() == "machine"


def test_a_step_opens_once_its_inputs_exist(qtbot, window, data_file):
    train_item = window.sidebar.item(PAGE_NAMES.index("train"))
    window.state.set_model_ref("")
    window.state.set_data_path("")
    assert not train_item.flags() & Qt.ItemFlag.ItemIsEnabled
    assert "Choose a model and a dataset first." == train_item.toolTip()
    assert not window.go_to("train") and window.current_page() != "train"
    window.state.set_model_ref("starter")
    window.state.set_data_path(str(data_file))
    assert train_item.flags() & Qt.ItemFlag.ItemIsEnabled
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page() == "train"
    qtbot.keyClick(window, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page() == "runs"
    window.state.go_to("data")  # pages navigate through AppState
    assert window.current_page() == "data"


def test_drops_are_routed_to_the_right_page(qtbot, window, data_file, tmp_path):
    def drop(path: Path) -> None:
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        event = QDropEvent(
            QPointF(10, 10),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
        )
        window.dropEvent(event)

    drop(data_file)
    assert window.state.data_path == str(data_file) and window.current_page() == "data"
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    drop(gguf)
    assert window.state.model_ref == str(gguf) and window.current_page() == "machine"
    run = create_run(RunConfig(model="starter", data=str(data_file)))
    EventWriter(log_path=run.events).emit("started", run_dir=str(run.root), total_steps=2)
    with qtbot.waitSignal(window.state.open_requested):
        drop(run.root)
    assert window.current_page() == "train" and window.state.run_dir == str(run.root)


def test_settings_persist_between_sessions(qtbot, data_file):
    first = MainWindow()
    qtbot.addWidget(first)
    first.state.set_model_ref("starter")
    first.state.set_data_path(str(data_file))
    first.go_to("runs")
    first.show()
    first.resize(1111, 777)
    first.close()
    assert QSettings().value("last_model") == "starter"
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.state.model_ref == "starter" and second.state.data_path == str(data_file)
    assert second.current_page() == "runs"
    # The offscreen screen clamps sizes to itself: check the saved geometry is the one closed with.
    probe = MainWindow()
    qtbot.addWidget(probe)
    assert probe.restoreGeometry(QSettings().value("geometry"))


def _start_fake_training(qtbot, window, data_file, monkeypatch) -> int:
    monkeypatch.setattr(
        worker_process, "worker_command", lambda *a: [sys.executable, str(FAKE), "run", a[1], "100000"]
    )
    # A model the core cannot resolve: its advice fails fast, so Start is ready at once.
    window.state.set_model_ref(str(data_file.parent / "no-such-model"))
    window.state.set_data_path(str(data_file))
    qtbot.waitUntil(window.train_page.start_button.isEnabled, timeout=60000)
    with qtbot.waitSignal(window.train_page.worker.started, timeout=10000):
        qtbot.keyClick(window, Qt.Key.Key_F5)  # Training > Start training
    assert window.current_page() == "train" and window.state.training
    qtbot.waitUntil(lambda: len(window.train_page.curves.train_points) > 0, timeout=10000)
    return window.train_page.worker.pid()


def test_close_while_training_and_keep_it_running(qtbot, answer_close_dialog, window, data_file, monkeypatch):
    pid = _start_fake_training(qtbot, window, data_file, monkeypatch)
    try:
        answer_close_dialog("Keep training in the background")
        assert window.close()
        assert psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        # The next window finds it on the Runs page and offers it.
        again = MainWindow()
        qtbot.addWidget(again)
        assert "still training in the background" in again.runs_page.banner.message.text()
    finally:
        psutil.Process(pid).kill()


def test_close_while_training_and_stop_it(qtbot, answer_close_dialog, window, data_file, monkeypatch):
    pid = _start_fake_training(qtbot, window, data_file, monkeypatch)
    answer_close_dialog("Stop training")
    assert not window.close()  # deferred until the worker has saved its checkpoint
    assert window.isVisible()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=15000)
    assert not window.train_page.is_training()
    psutil.Process(pid).wait(timeout=5) if psutil.pid_exists(pid) else None
    run = Path(window.state.run_dir)
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "finished" and events[-1]["status"] == "cancelled"


def test_cancel_in_the_close_dialog_keeps_the_window(
    qtbot, answer_close_dialog, window, data_file, monkeypatch
):
    _start_fake_training(qtbot, window, data_file, monkeypatch)
    answer_close_dialog("Cancel")
    assert not window.close()
    assert window.isVisible() and window.train_page.is_training()
    with qtbot.waitSignal(window.train_page.worker.finished, timeout=10000):
        window.train_page.cancel()  # so the test's teardown closes the window without asking


def test_a_long_run_ends_with_a_notification(window):
    from tunedesk.ui.process.worker_process import ProcessOutcome

    done = {"v": 1, "event": "finished", "t": 0, "status": "completed"}
    window.train_page.run_finished.emit(ProcessOutcome(0, False, done), 3600.0)
    assert window.statusBar().currentMessage() == "Training finished."
