"""Chat page: real answers from the real starter GGUF, streamed from the chat thread (llama.cpp, 2 threads)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tunedesk.ui.app_state import AppState
from tunedesk.ui.pages.chat.page import ChatPage

pytestmark = pytest.mark.gui


@pytest.fixture
def page(qtbot, starter_gguf: Path):
    state = AppState()
    page = ChatPage(state)
    page.n_threads = 2  # the test machine is shared: be fair, and fast enough for 135M
    page.set_model(str(starter_gguf))
    qtbot.addWidget(page)
    yield page
    page.shutdown()


def _wait_idle(qtbot, page: ChatPage, timeout: int = 180000) -> None:
    qtbot.waitUntil(lambda: not any(p.busy for p in page.panes), timeout=timeout)


def test_building_the_page_does_not_import_llama_cpp(heavy_imports_after) -> None:
    # In a fresh process: this test process has long imported llama_cpp through the other tests.
    assert heavy_imports_after("tunedesk.ui.pages.chat.page", "ChatPage", "page.shutdown()") == []


def test_streams_a_real_answer_with_stats(qtbot, page: ChatPage) -> None:
    page.max_tokens.setValue(24)
    page.temperature.setValue(0.0)
    page.input.setPlainText("What is the capital of France?")
    chunks: list[str] = []
    page.tuned_pane.session.chunk.connect(chunks.append)
    with qtbot.waitSignal(page.tuned_pane.session.answer_finished, timeout=180000) as blocker:
        page.send_button.click()
        assert page.stop_button.isEnabled() and not page.send_button.isEnabled()
    stats = blocker.args[0]
    assert len(chunks) >= 2, "the answer must arrive in pieces, not at once"
    messages = page.tuned_pane.messages
    assert messages[0] == ["user", "What is the capital of France?"]
    assert messages[1][0] == "assistant" and "Paris" in messages[1][1]
    assert stats["tokens"] > 0 and stats["time_to_first_token"] is not None
    qtbot.waitUntil(lambda: "tokens/s" in page.tuned_pane.stats.text())
    assert page.input.toPlainText() == ""
    assert page.send_button.isEnabled() and not page.stop_button.isEnabled()
    assert "Paris" in page.tuned_pane.transcript.toPlainText()


def test_stop_cancels_mid_answer(qtbot, page: ChatPage) -> None:
    page.max_tokens.setValue(400)
    page.input.setPlainText("Write a long story about a lighthouse keeper and the sea.")
    session = page.tuned_pane.session
    with qtbot.waitSignal(session.chunk, timeout=180000):
        page.send()
    with qtbot.waitSignal(session.answer_finished, timeout=30000) as blocker:
        page.stop_button.click()
    stats = blocker.args[0]
    assert stats["cancelled"] is True
    assert stats["tokens"] < 400
    assert "stopped" in page.tuned_pane.stats.text()
    assert page.tuned_pane.messages[-1][0] == "assistant" and page.tuned_pane.messages[-1][1]


def test_compare_mode_streams_two_answers(qtbot, page: ChatPage, starter_gguf: Path) -> None:
    page.compare_box.setChecked(True)
    assert len(page.panes) == 2 and not page.base_pane.isHidden()
    assert page.base_pane.model_path == str(starter_gguf)  # no run yet: the base is the starter
    page.max_tokens.setValue(16)
    page.input.setPlainText("Say hello.")
    page.send()
    assert page.base_pane.busy and page.tuned_pane.busy  # both answer at once, each in its own thread
    _wait_idle(qtbot, page)
    for pane in page.panes:
        assert pane.messages[0] == ["user", "Say hello."]
        assert pane.messages[1][0] == "assistant" and pane.messages[1][1].strip()


def test_new_chat_and_a_broken_model_file(qtbot, page: ChatPage, tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a model at all")
    page.set_model(str(bad))
    page.input.setPlainText("Hello?")
    page.send()
    _wait_idle(qtbot, page)
    role, text = page.tuned_pane.messages[-1]
    assert role == "error" and "broken.gguf" in text
    page.new_chat()
    assert page.tuned_pane.messages == []


def test_follows_the_exported_gguf_and_the_runs_base(
    qtbot, page: ChatPage, starter_gguf: Path, tmp_path
) -> None:
    from tunedesk.core.runs import RunConfig, create_run

    exported = tmp_path / "model-q8_0.gguf"
    exported.write_bytes(starter_gguf.read_bytes())
    page.state.set_gguf_path(str(exported))
    assert page.tuned_pane.model_path == str(exported)
    assert exported.name in page.model_label.full_text
    run = create_run(RunConfig(model=str(starter_gguf), data="x.jsonl"), tmp_path / "run")
    page.state.set_run_dir(str(run.root))
    assert page.base_pane.model_path == str(starter_gguf)


def test_closing_the_page_while_an_answer_streams_ends_every_thread(qtbot, starter_gguf: Path) -> None:
    """The chat thread must never be destroyed while llama.cpp runs in it (a crash seen under load)."""
    from tunedesk.ui.pages.chat import chat_session

    for round_ in range(3):
        state = AppState()
        page = ChatPage(state)
        page.n_threads = 2
        page.set_model(str(starter_gguf))
        page.max_tokens.setValue(400)
        page.input.setPlainText(f"Tell a long story about lighthouse number {round_}.")
        page.send()
        session = page.tuned_pane.session
        with qtbot.waitSignal(session.chunk, timeout=180000):
            pass
        if round_ == 1:
            # A model swapped mid-answer: the old session ends on its own, the page is gone before it has.
            page.set_model(str(starter_gguf) + ".missing")
            page.deleteLater()
            qtbot.waitUntil(lambda: not chat_session._LIVE, timeout=120000)
        else:
            page.close()  # closeEvent: stop, free the model in its thread, wait for the thread
            page.deleteLater()
            assert not chat_session._LIVE
        assert session._thread.isFinished()
        del page, state


QUIT_AFTER_CHAT = """
import sys
from PySide6.QtCore import QTimer
from tunedesk.ui import app
from tunedesk.ui.main_window import MainWindow

shown = MainWindow.show


def drive(window):
    chat = window.chat_page
    chat.n_threads = 2
    chat.max_tokens.setValue(300)

    def second_answer(_stats):
        print("answered", flush=True)
        chat.input.setPlainText("Now tell a long story about the sea.")
        chat.send()
        # File > Quit while this answer streams.
        chat.tuned_pane.session.chunk.connect(lambda _piece: QTimer.singleShot(0, window.close))

    chat.input.setPlainText("Say hello.")
    chat.max_tokens.setValue(12)
    chat.send()
    chat.tuned_pane.session.answer_finished.connect(second_answer)


def show(self):
    shown(self)
    QTimer.singleShot(0, lambda: drive(self))


MainWindow.show = show
code = app.main([])
print("exited", code, flush=True)
sys.exit(code)
"""


def test_quitting_the_app_after_chatting_exits_cleanly(tmp_path: Path, starter_gguf: Path) -> None:
    """The real app, offscreen: chat with the starter model, quit mid-answer; exit code 0, no fatal error."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # the app's QSettings, away from the user's
    }
    out = subprocess.run(
        [sys.executable, "-c", QUIT_AFTER_CHAT], capture_output=True, text=True, env=env, timeout=600
    )
    assert "answered" in out.stdout, out.stderr[-3000:]
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Fatal Python error" not in out.stderr and "QThread: Destroyed" not in out.stderr
    assert out.stdout.strip().splitlines()[-1] == "exited 0"


def test_a_tuned_gguf_brings_its_training_prompt_and_a_same_quant_base(
    qtbot, page: ChatPage, starter_gguf: Path, tmp_path: Path
) -> None:
    from tunedesk.core.chat.companion import GgufCompanion, write_companion

    tuned, base = tmp_path / "run-q4_1.gguf", tmp_path / "base-q4_1.gguf"
    tuned.symlink_to(starter_gguf)
    base.symlink_to(starter_gguf)
    write_companion(tuned, GgufCompanion("You triage tickets.", str(tmp_path), "q4_1", str(base)))
    page.state.set_gguf_path(str(tuned))
    assert page.answer_settings.system_text() == "You triage tickets."  # not "You are a helpful assistant."
    assert page.base_pane.model_path == str(base)
    # Each side says which is which, with its quantization.
    assert page.tuned_pane.title.text() == "Your model · q4_1"
    assert page.base_pane.title.text() == "Base model · q4_1"


def test_calls_after_retire_never_reach_the_ending_thread(qtbot, starter_gguf: Path) -> None:
    """retire() then close() (a model swapped, then the page closed) while the thread is ending: the worker is
    being deleted in the chat thread then, and a second emit to it from here could deadlock on the GIL."""
    from tunedesk.ui.pages.chat.chat_session import ChatSession

    for _ in range(100):
        session = ChatSession(str(starter_gguf), n_threads=1)
        session.retire()
        session.reset()  # ignored: the conversation is gone with the model
        assert not session.ask("Hello?", temperature=0.1, top_p=0.9, max_tokens=4)
        assert session.close(30_000)
        assert session._thread.isFinished()


def test_a_model_closed_mid_answer_is_freed_in_its_own_thread(qtbot, starter_gguf: Path) -> None:
    """close() while an answer streams: quit() ends the chat thread's loop after the answer, leaving the queued
    release behind it; the model must still be freed there, in the thread that loaded it, before close returns."""
    import threading

    from PySide6.QtCore import QCoreApplication

    from tunedesk.ui.pages.chat.chat_session import ChatSession

    session = ChatSession(str(starter_gguf), n_threads=2)
    with qtbot.waitSignal(session.chunk, timeout=180000):
        assert session.ask("Write a long story about the sea.", temperature=0.0, top_p=1.0, max_tokens=400)
    llm = session._worker.engine.llm
    closed_in: list[int] = []
    close = llm.close

    def recording_close() -> None:  # the model itself, wrapped on this one object: Qt's wiring stays as it is
        closed_in.append(threading.get_ident())
        close()

    llm.close = recording_close
    assert session.close(60_000)
    assert closed_in and closed_in[0] != threading.get_ident()
    # The worker is handed back to the GUI thread and deleted there with its session, never in the ending thread.
    assert session._worker.thread() == QCoreApplication.instance().thread()
