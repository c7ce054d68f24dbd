"""The whole app through its widgets, as a person would: train a tiny model, export it, chat with the result."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tunedesk.core.paths import sample_dataset
from tunedesk.ui.main_window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.e2e]


def test_train_then_export_then_chat_through_the_widgets(qtbot, stop_workers, tiny_model_dir):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    train, export, chat = window.train_page, window.export_page, window.chat_page
    stop_workers(train.worker)
    stop_workers(train.advisor.process)
    stop_workers(export.proc)
    chat.n_threads = 2

    # 1-2. The sample data is the default; the model is picked as on the Machine page (the tiny one, for speed).
    qtbot.waitUntil(lambda: window.state.data_path == str(sample_dataset()), timeout=60_000)
    window.state.set_model_ref(str(tiny_model_dir))

    # 3. Train: the core's advice arrives, then a short run started with the Start button.
    assert window.go_to("train")
    qtbot.waitUntil(train.start_button.isEnabled, timeout=300_000)
    for name, value in {"max_steps": 2, "batch_size": 2, "grad_accum": 1, "seq_len": 64}.items():
        train.form.rows[name].set_value(value)
    train.form.rows["max_steps"].changed.emit()
    qtbot.waitUntil(train.start_button.isEnabled, timeout=300_000)
    with qtbot.waitSignal(train.worker.finished, timeout=600_000) as trained:
        qtbot.mouseClick(train.start_button, Qt.MouseButton.LeftButton)
    assert trained.args[0].was_successful(), train.log.toPlainText()[-3000:]
    run_dir = Path(window.state.run_dir)
    assert (run_dir / "adapter" / "adapter_config.json").is_file()

    # 4. Export: the run is offered, exported and verified; the GGUF becomes the chat model. f16: a random tiny
    # model's logits are nearly flat, so 8-bit rounding flips its greedy answers (verification would say so).
    assert window.go_to("export")
    qtbot.waitUntil(lambda: export.start_button.isEnabled(), timeout=60_000)
    export.quant_radios["f16"].setChecked(True)
    with qtbot.waitSignal(export.proc.finished, timeout=900_000) as exported:
        qtbot.mouseClick(export.start_button, Qt.MouseButton.LeftButton)
    assert exported.args[0].was_successful(), export.error_banner.message.text()
    gguf = Path(window.state.gguf_path)
    assert gguf.is_file() and gguf.read_bytes()[:4] == b"GGUF" and run_dir in gguf.parents

    # 5. Chat with it: the exported file is the chat model, and an answer streams back.
    assert window.go_to("chat")
    chat.max_tokens.setValue(8)
    chat.temperature.setValue(0.0)
    chat.input.setPlainText("My invoice is wrong")
    with qtbot.waitSignal(chat.tuned_pane.session.answer_finished, timeout=300_000) as answered:
        qtbot.mouseClick(chat.send_button, Qt.MouseButton.LeftButton)
    assert answered.args[0]["tokens"] > 0
    assert chat.tuned_pane.messages[0] == ["user", "My invoice is wrong"]
    assert chat.tuned_pane.messages[1][0] == "assistant"
    assert gguf.name in chat.model_label.full_text
    chat.shutdown()
