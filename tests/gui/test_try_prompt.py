"""The Data page's offer to try a system prompt on the base model first (core/data/advice.py says fine-tuning
may not pay): shown only then, and it opens the Chat page on the base model with the drafted prompt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunedesk.core.paths import sample_dataset
from tunedesk.ui.app_state import AppState
from tunedesk.ui.pages.chat.page import ChatPage
from tunedesk.ui.pages.data.page import DataPage

pytestmark = pytest.mark.gui


def _labels_file(folder: Path) -> Path:
    """30 messages, each answered with one of two labels: a system prompt listing them may be enough."""
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"Message {i}: the parcel {'arrived' if i % 2 else 'is late'}."},
                {"role": "assistant", "content": "happy" if i % 2 else "unhappy"},
            ]
        }
        for i in range(30)
    ]
    path = folder / "moods.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _loaded(qtbot, page: DataPage, path: Path) -> None:
    with qtbot.waitSignal(page.loaded, timeout=30000):
        page.open_path(str(path))
    page.shutdown()  # the token count (a transformers subprocess) is not what this test is about


def test_the_offer_opens_chat_on_the_base_model_with_a_drafted_prompt(qtbot, tmp_path, starter_gguf):
    state = AppState()
    data = DataPage(state)
    chat = ChatPage(state)
    for page in (data, chat):
        qtbot.addWidget(page)
    chat.set_model("")  # another model (or none) in Chat: the offer must bring the base model back
    button = data.report_card.try_prompt_button
    _loaded(qtbot, data, _labels_file(tmp_path))
    assert button.isVisibleTo(data) and data.report_card.try_prompt_help.isVisibleTo(data)
    with qtbot.waitSignal(state.navigate, check_params_cb=lambda page: page == "chat"):
        button.click()
    assert chat.tuned_pane.model_path == str(starter_gguf)  # the base model (state.model_ref: the starter)
    assert chat.tuned_pane.title.text().startswith("Base model")
    prompt = chat.answer_settings.system_text()
    assert "happy, unhappy" in prompt and "Message 0: the parcel is late." in prompt
    _loaded(qtbot, data, sample_dataset())  # varied answers, plenty of rows: training is the right tool
    assert not button.isVisibleTo(data)
    chat.shutdown()
