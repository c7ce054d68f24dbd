"""The Runs page over real run folders in the per-test TUNEDESK_HOME."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from tunedesk.core.protocol import EventWriter
from tunedesk.core.runs import RunConfig, RunLayout, create_run
from tunedesk.ui.app_state import AppState
from tunedesk.ui.pages.runs.page import RunsPage

pytestmark = pytest.mark.gui
FAKE = Path(__file__).with_name("fake_worker.py")


def make_run(
    name: str, steps: int, *, finished: str | None = "completed", checkpoint: bool = False
) -> RunLayout:
    layout = create_run(RunConfig(model="starter", data="notes.jsonl", name=name))
    writer = EventWriter(log_path=layout.events)
    writer.emit("started", run_dir=str(layout.root), total_steps=steps)
    for step in range(1, steps + 1):
        writer.emit("step", step=step, total_steps=steps, loss=2.0 / step, learning_rate=1e-4)
    writer.emit("eval", step=steps, val_loss=0.5, best_val_loss=0.5)
    if checkpoint:
        layout.checkpoint(steps).mkdir(parents=True)
    if finished:
        writer.emit("finished", status=finished, best_val_loss=0.5)
        layout.adapter.mkdir()
        (layout.adapter / "adapter_config.json").write_text("{}")
    return layout


@pytest.fixture
def state() -> AppState:
    return AppState()


def test_lists_runs_and_redraws_curves_of_the_selected_one(qtbot, state):
    done = make_run("alpha", 4)
    crashed = make_run("beta", 3, finished=None, checkpoint=True)
    page = RunsPage(state)
    qtbot.addWidget(page)
    assert page.table.rowCount() == 2
    rows = {page.table.item(r, 0).text(): r for r in range(2)}
    assert page.table.item(rows["alpha"], 1).text() == "Completed"
    assert page.table.item(rows["alpha"], 2).text() == "4 / 4"
    assert page.table.item(rows["alpha"], 3).text() == "0.500"
    assert page.table.item(rows["beta"], 1).text() == "Stopped unexpectedly"
    # The crashed run is offered for resume, without a modal dialog.
    assert page.banner.isVisibleTo(page) and page.banner.action.text() == "Resume"
    assert page.select(str(done.root))
    assert [p[0] for p in page.curves.train_points] == [1, 2, 3, 4]
    assert page.export_button.isEnabled() and not page.resume_button.isEnabled()
    assert page.select(str(crashed.root))
    assert [p[0] for p in page.curves.train_points] == [1, 2, 3]
    assert page.resume_button.isEnabled() and not page.export_button.isEnabled()


def test_buttons_talk_through_app_state(qtbot, state):
    done = make_run("alpha", 2)
    crashed = make_run("beta", 2, finished=None, checkpoint=True)
    page = RunsPage(state)
    qtbot.addWidget(page)
    page.select(str(done.root))
    with qtbot.waitSignal(state.navigate, check_params_cb=lambda n: n == "export"):
        page.export_button.click()
    assert state.run_dir == str(done.root)
    with qtbot.waitSignal(state.open_requested, check_params_cb=lambda r: r == str(done.root)):
        page.reopen_button.click()
    page.select(str(crashed.root))
    with qtbot.waitSignal(state.resume_requested, check_params_cb=lambda r: r == str(crashed.root)):
        page.resume_button.click()
    with qtbot.waitSignal(state.resume_requested):
        page.banner.action.click()


def test_delete_asks_first(qtbot, state, tmp_path, monkeypatch):
    (tmp_path / "xdg").mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # the trash of this test, not the user's
    run = make_run("gamma", 2)
    page = RunsPage(state)
    qtbot.addWidget(page)
    page.select(str(run.root))

    def answer(button: QMessageBox.StandardButton) -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox) and "gamma" in box.text()
        box.button(button).click()

    QTimer.singleShot(100, lambda: answer(QMessageBox.StandardButton.Cancel))
    assert not page.delete_selected(confirm=True)
    assert run.root.exists()
    QTimer.singleShot(100, lambda: answer(QMessageBox.StandardButton.Yes))
    assert page.delete_selected(confirm=True)
    assert not run.root.exists()
    assert list((tmp_path / "xdg" / "Trash" / "files").glob("*gamma*"))  # in the trash: a slip can be undone
    assert page.table.rowCount() == 0 and page.empty.isVisibleTo(page)


def test_a_run_training_in_the_background_is_offered_and_cannot_be_deleted(qtbot, state):
    layout = create_run(RunConfig(model="starter", data="notes.jsonl", name="bg"))
    src = str(Path(__file__).resolve().parents[2] / "desktop")
    child = subprocess.Popen(
        [sys.executable, str(FAKE), "run", str(layout.root), "100000"], env={"PYTHONPATH": src}
    )
    try:
        qtbot.waitUntil(lambda: layout.pid.exists() and layout.events.exists(), timeout=10000)
        assert json.loads(layout.pid.read_text())["pid"] == child.pid
        page = RunsPage(state)
        qtbot.addWidget(page)
        assert page.table.item(0, 1).text() == "Training"
        assert "still training in the background" in page.banner.message.text()
        page.select(str(layout.root))
        assert not page.delete_button.isEnabled()
        with qtbot.waitSignal(state.open_requested):
            page.banner.action.click()
    finally:
        child.kill()
        child.wait()


def test_forgetting_in_words_and_the_report_opens(qtbot, state, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    done = make_run("alpha", 2, finished=None)
    forgetting = {"general_loss_base": 1.0, "general_loss_tuned": 1.5, "prompts": 24, "seconds": 2.0}
    EventWriter(log_path=done.events).emit(
        "finished", status="completed", best_val_loss=0.5, forgetting=forgetting
    )
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    page = RunsPage(state)
    qtbot.addWidget(page)
    assert page.select(str(done.root))
    assert page.forgetting.text().startswith("General ability: much lower than the base model")
    assert "general_data_fraction=0.2" in page.forgetting.text()
    assert page.report_button.isEnabled()
    page.report_button.click()
    assert opened == [str(done.root / "report.html")]
    assert "1.5000" in (done.root / "report.html").read_text(encoding="utf-8")


def test_refresh_redraws_the_selected_run_with_its_new_steps(qtbot, state):
    """A run selected while it trained shows its later steps after Refresh (same row, no selection change)."""
    layout = make_run("gamma", 2, finished=None)
    page = RunsPage(state)
    qtbot.addWidget(page)
    assert page.select(str(layout.root))
    assert [p[0] for p in page.curves.train_points] == [1, 2]
    writer = EventWriter(log_path=layout.events)
    for step in (3, 4):
        writer.emit("step", step=step, total_steps=2, loss=0.4, learning_rate=1e-4)
    writer.emit("finished", status="completed", best_val_loss=0.4)
    page.refresh()
    assert [p[0] for p in page.curves.train_points] == [1, 2, 3, 4]
    x, _y = page.curves.train_curve.getData()
    assert list(x) == [1, 2, 3, 4]  # drawn, not only collected


def test_two_selected_runs_compare_side_by_side_in_the_data_folder(qtbot, state, monkeypatch, tunedesk_home):
    from PySide6.QtGui import QDesktopServices

    runs = {}
    for name, tuned in (("alpha", 1.25), ("beta", 1.75)):
        runs[name] = make_run(name, 2, finished=None)
        forgetting = {"general_loss_base": 1.0, "general_loss_tuned": tuned, "prompts": 24, "seconds": 2.0}
        EventWriter(log_path=runs[name].events).emit(
            "finished", status="completed", best_val_loss=0.5, forgetting=forgetting
        )
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    page = RunsPage(state)
    qtbot.addWidget(page)
    assert page.select(str(runs["alpha"].root))
    assert page.compare_button.isVisibleTo(page) and page.list_card.compare_help.isVisibleTo(page)
    assert not page.compare_button.isEnabled()  # one run: nothing to compare it with
    page.table.select_rows([0, 1])
    assert page.compare_button.isEnabled()
    assert not page.report_button.isEnabled()  # the one-run buttons wait for a single run
    page.refresh()
    assert len(page.selected_runs()) == 2  # a refresh keeps both
    page.compare_button.click()
    assert len(opened) == 1
    html = Path(opened[0])
    assert html.parent == tunedesk_home / "reports" and html.is_file()
    text = html.read_text(encoding="utf-8")
    assert "alpha" in text and "beta" in text and "1.2500" in text and "1.7500" in text
    assert not list(html.parent.glob(".*.tmp"))  # written whole, through a temp file
