"""Fixtures of the end-to-end tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from .train_helpers import write_chat_jsonl


@pytest.fixture
def chat_jsonl(tmp_path: Path) -> Path:
    """48 support tickets with one-line triage answers (chat format)."""
    return write_chat_jsonl(tmp_path / "tickets.jsonl")
