"""Chat sends each model the system prompt it was trained with: none when its data had none, and never the
previous model's (issue 15). A prompt the user wrote for a model is kept for that model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunedesk.core.chat.companion import GgufCompanion, write_companion
from tunedesk.ui.app_state import AppState
from tunedesk.ui.pages.chat.answer_settings import DEFAULT_SYSTEM, TRAINED_WITHOUT
from tunedesk.ui.pages.chat.page import ChatPage

pytestmark = pytest.mark.gui


@pytest.fixture
def page(qtbot, starter_gguf: Path):
    page = ChatPage(AppState())
    page.n_threads = 2  # the test machine is shared
    qtbot.addWidget(page)
    yield page
    page.shutdown()


def _tuned(tmp_path: Path, starter_gguf: Path, name: str, prompt: str | None) -> str:
    """A GGUF as an export leaves it: the file and its companion saying the run's training prompt."""
    gguf = tmp_path / f"{name}-q8_0.gguf"
    gguf.symlink_to(starter_gguf)
    write_companion(gguf, GgufCompanion(prompt, str(tmp_path / name), "q8_0", None))
    return str(gguf)


def test_each_model_gets_its_own_prompt_and_none_when_trained_without(
    qtbot, page: ChatPage, starter_gguf: Path, tmp_path: Path
) -> None:
    plain = _tuned(tmp_path, starter_gguf, "plain", None)  # its training rows had no system prompt
    triage = _tuned(tmp_path, starter_gguf, "triage", "You triage tickets.")
    settings = page.answer_settings

    page.set_model(str(starter_gguf))  # says nothing about its training: the generic default
    assert settings.system_text() == DEFAULT_SYSTEM
    settings.system_prompt.setPlainText("Answer in one word.")  # the user's own, for this model

    page.set_model(plain)
    assert settings.system_text() == ""  # not the starter's prompt, not "You are a helpful assistant."
    assert settings.system_prompt.placeholderText() == TRAINED_WITHOUT
    page.max_tokens.setValue(8)
    page.input.setPlainText("Hello")
    page.send()
    qtbot.waitUntil(
        lambda: not page.tuned_pane.busy and bool(page.tuned_pane.messages[-1][1]), timeout=180_000
    )
    session = page.tuned_pane.session
    assert session.system_prompt == ""
    sent = session._worker.engine.messages("next")  # what llama.cpp is given: no system message at all
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]

    page.set_model(triage)
    assert settings.system_text() == "You triage tickets."
    page.set_model(plain)
    assert settings.system_text() == ""  # the triage prompt does not carry over
    page.set_model(str(starter_gguf))
    assert settings.system_text() == "Answer in one word."  # what the user wrote for it, kept
    assert page.tuned_pane.session.system_prompt == "Answer in one word."
