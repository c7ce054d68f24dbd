"""The GUI stays thin and split per widget: no module of tunedesk.ui grows past 300 lines."""

from __future__ import annotations

from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "desktop" / "tunedesk" / "ui"
MAX_LINES = 300


def test_no_gui_module_over_300_lines() -> None:
    sizes = {
        p.relative_to(UI).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
        for p in UI.rglob("*.py")
    }
    assert len(sizes) > 30  # the whole ui package was read
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
