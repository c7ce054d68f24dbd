"""Thumbs and "Write a better answer" under a chat pane save preference pairs the data pipeline reads."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtWidgets import QInputDialog

from tunedesk.core.data import load_dataset
from tunedesk.ui.pages.chat.chat_pane import ChatPane


def test_rating_answers_saves_pairs(qtbot, monkeypatch, tunedesk_home: Path) -> None:
    pane = ChatPane("Tuned")
    qtbot.addWidget(pane)
    pane.feedback.set_model("/somewhere/triage-q8_0.gguf")
    assert not pane.feedback.up.isEnabled()  # nothing answered yet
    pane._config = ("/somewhere/triage-q8_0.gguf", "Be brief.", None)
    pane.messages = [["user", "Capital of France?"], ["assistant", "Paris."]]
    pane._render()
    assert pane.feedback.up.isEnabled()
    pane.feedback.up.click()
    pane.messages[-1][1] = "What a lovely question! France is a beautiful country..."
    pane.feedback.down.click()
    path = tunedesk_home / "datasets" / "feedback-triage-q8_0.jsonl"
    assert "1 preference pair in" in pane.feedback.status.text()
    monkeypatch.setattr(QInputDialog, "getMultiLineText", lambda *a, **k: ("The capital is Paris.", True))
    pane.feedback.better.click()
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows[0]["prompt"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
    ]
    assert [r["chosen"][0]["content"] for r in rows] == ["Paris.", "The capital is Paris."]
    assert load_dataset(path).data_format == "preference"
