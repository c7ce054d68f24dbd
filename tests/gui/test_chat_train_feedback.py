""" "Train on my feedback" on the Chat page: feedback saved to the real feedback file makes a real DPO run
folder on top of the chatted run's adapter, which the Train page's worker starts and shows (tiny model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QInputDialog

from tunedesk.core.chat.feedback import FeedbackFile, feedback_path
from tunedesk.core.protocol import read_events
from tunedesk.core.runs import RunConfig, RunLayout, create_run, load_config
from tunedesk.core.training.feedback_run import MIN_FEEDBACK_PAIRS

pytestmark = [pytest.mark.gui, pytest.mark.e2e]

LOAD_MS = 600_000  # the worker imports torch and loads the model on a shared, slow machine
CHATTY = "Hello! Thanks for reaching out, we will look into it soon."


def _chatted_run(model_dir: Path, tmp_path: Path) -> tuple[RunLayout, Path]:
    """A run of the tiny model with a real LoRA adapter (peft's format, as a run saves it) and an export."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    data = tmp_path / "sft.jsonl"
    data.write_text(
        json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]})
    )
    layout = create_run(RunConfig(model=str(model_dir), data=str(data), name="triage"))
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    get_peft_model(base, lora).save_pretrained(layout.adapter)
    layout.events.write_text("")
    gguf = layout.export / "triage-q8_0.gguf"
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF")  # the chat loads a model only when asked a question; none is asked here
    return layout, gguf


def test_train_on_my_feedback_starts_a_dpo_run_on_the_chatted_run(
    tunedesk_home: Path, qtbot, monkeypatch, window, tiny_model_dir: Path, tmp_path: Path
) -> None:
    earlier, gguf = _chatted_run(tiny_model_dir, tmp_path)
    chat = window.chat_page
    chat.set_model(str(gguf))
    button, reason = chat.feedback_training.button, chat.feedback_training.reason
    assert not button.isEnabled()
    assert f"needs {MIN_FEEDBACK_PAIRS} preference pairs, 0 so far" in reason.text()

    feedback = FeedbackFile(feedback_path(gguf.stem))
    for i in range(MIN_FEEDBACK_PAIRS - 1):
        question = [{"role": "user", "content": f"Ticket {i}: the printer on floor {i} is jammed."}]
        feedback.better_answer(question, CHATTY, f"hardware | printer | floor {i}")
    # The last pair through the pane's own "Write a better answer", as a person gives it.
    pane = chat.tuned_pane
    pane.messages = [["user", "Ticket 99: VPN drops every hour."], ["assistant", CHATTY]]
    pane._render()
    monkeypatch.setattr(QInputDialog, "getMultiLineText", lambda *a, **k: ("network | vpn | hourly", True))
    pane.feedback.better.click()
    assert button.isEnabled(), reason.text()
    assert f"{MIN_FEEDBACK_PAIRS} preference pairs" in reason.text()

    with qtbot.waitSignal(window.train_page.worker.started, timeout=30_000):
        button.click()
    shown = (window.current_page(), window.state.training, button.isEnabled(), reason.text())
    run = Path(window.state.run_dir)
    # The live run on the Train page runs to its end (a few steps); every check comes after it, so a failing
    # one never leaves the window closing on a running worker (its close dialog would wait for an answer).
    page = window.train_page
    with qtbot.waitSignal(page.worker.finished, timeout=LOAD_MS):
        pass
    assert shown[:3] == ("train", True, False), shown
    assert "A run is training" in shown[3]
    assert run != earlier.root and run.parent == earlier.root.parent
    config = load_config(run)
    assert config.preset.name == "dpo" and config.preset.objective == "dpo"
    assert config.preset.init_adapter == str(earlier.adapter.resolve())
    assert config.data == str(feedback.path.resolve()) and config.model == str(tiny_model_dir)
    # The worker read the pairs, split them as usual and continued the chatted run's adapter.
    events = read_events(RunLayout(run).events)
    started = [e for e in events if e["event"] == "started"]
    assert started, page.log.toPlainText()[-3000:]
    assert started[0]["objective"] == "dpo" and started[0]["general_examples"] == 0
    assert started[0]["train_examples"] + started[0]["val_examples"] == MIN_FEEDBACK_PAIRS
    assert started[0]["val_examples"] >= 1  # the usual validation split
    # Either ending is a run that went through: the plateau stop may end a DPO run on a few pairs early.
    assert events[-1]["event"] == "finished" and events[-1]["status"] in ("completed", "early_stopped")
    assert page.curves.train_points
