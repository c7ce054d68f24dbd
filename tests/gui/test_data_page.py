"""Data page: the real sample dataset, a bad file, and the real `tunedesk data inspect --json` subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunedesk.core.paths import sample_dataset
from tunedesk.core.presets.preset import Preset
from tunedesk.ui.app_state import AppState
from tunedesk.ui.pages.data.page import DataPage

pytestmark = pytest.mark.gui


def _row(user: str, answer: str) -> str:
    return json.dumps(
        {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}
    )


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    lines = [_row(f"question {i}", f"answer {i}") for i in range(1, 7)]
    lines[2] = '{"messages": [{"role": "user", "content": "broken json"'  # line 3: not JSON
    lines[4] = json.dumps({"messages": [{"role": "user", "content": "no answer here"}]})  # line 5: no answer
    lines.append(lines[0])  # line 7: a duplicate of line 1
    path = tmp_path / "notes.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def page(qtbot):
    page = DataPage(AppState())
    qtbot.addWidget(page)
    yield page
    page.shutdown()


def test_sample_data_is_preselected_with_preview_report_and_histogram(qtbot, page: DataPage) -> None:
    qtbot.waitUntil(lambda: page.state.data_path == str(sample_dataset()), timeout=30000)
    assert page.preview.rowCount() > 100
    assert page.preview.columns() == ["Line", "System", "Prompt (user)", "Answer (assistant)"]
    assert "[BILLING]" in page.preview.index(0, 3).data()
    assert page.format_label.text() == "Chat conversations in a JSON Lines file"  # no "openai chat · jsonl"
    assert page.stat_values["total_rows"].text() == "240"
    # The tokenizer pass is the real CLI subprocess: it loads transformers, so give it time.
    with qtbot.waitSignal(page.inspected, timeout=240000) as blocker:
        pass
    report = blocker.args[0]
    assert report["tokens"]["counts"] and sum(page.histogram.counts) == report["usable_rows"]
    assert page.stat_values["total_tokens"].text() == f"{report['total_tokens']:,}"
    assert page.state.data_stats == report
    assert "median" in page.token_note.text()


def test_bad_file_lists_problems_by_line_and_clicking_one_shows_it(
    qtbot, page: DataPage, bad_file: Path
) -> None:
    page.open_path(str(bad_file))
    with qtbot.waitSignal(page.loaded, timeout=30000):
        pass
    items = [page.problems.item(i).text() for i in range(page.problems.count())]
    assert any("line 3" in t for t in items) and any("line 5" in t for t in items)
    assert any("line 7" in t and "duplicate" in t for t in items)
    assert page.stat_values["total_rows"].text() == "7" and page.stat_values["usable_rows"].text() == "4"
    # A skipped line is shown highlighted in the file view.
    line3 = next(i for i in range(page.problems.count()) if "line 3" in page.problems.item(i).text())
    page.problems.setCurrentRow(line3)
    assert page.tabs.currentWidget() is page.raw
    assert page.current_raw_line() == 3
    assert "broken json" in page.raw.textCursor().block().text()


def test_a_file_with_no_usable_row_names_file_line_and_what_to_do(
    qtbot, page: DataPage, tmp_path: Path
) -> None:
    bad = tmp_path / "table.csv"
    bad.write_text("name,age\nada,36\n", encoding="utf-8")
    with qtbot.waitSignal(page.failed, timeout=30000) as blocker:
        page.open_path(str(bad))
    text = blocker.args[0]
    assert "table.csv" in text and "What to do" in text
    assert not page.error_banner.isHidden()
    assert page.error_banner.hint.text().startswith("What to do")
    assert page.state.data_stats is None


def test_split_settings_write_the_preset(qtbot, page: DataPage) -> None:
    assert page.val_share.value() == Preset().val_fraction * 100
    page.val_share.setValue(20)
    page.seed.setValue(7)
    assert page.state.preset.val_fraction == pytest.approx(0.2)
    assert page.state.preset.seed == 7
    page.state.set_preset(Preset(val_fraction=0.05))
    assert page.val_share.value() == 5


def test_building_the_page_does_not_import_transformers(heavy_imports_after) -> None:
    assert heavy_imports_after("tunedesk.ui.pages.data.page", "DataPage", "page.inspector.kill()") == []


def test_a_folder_of_notes_is_raw_text(qtbot, page: DataPage) -> None:
    notes = sample_dataset().parent / "notes"
    with qtbot.waitSignal(page.loaded, timeout=30000):
        page.open_path(str(notes))
    assert page.preview.columns() == ["Line", "Text"]
    assert page.preview.rowCount() == len([p for p in notes.iterdir() if p.suffix in (".md", ".txt")])
    assert page.format_label.text() == "Plain text in a folder of notes"
    assert page.state.data_path == str(notes)


def test_a_narrow_preview_elides_its_headers_and_tells_them_whole(qtbot) -> None:
    """At 1024x640 the table is narrow: "Answer (assi…" with the whole name in the tooltip, never a header
    cut on both sides ("swer (assista")."""
    from PySide6.QtCore import Qt

    from tunedesk.core.data.loader import load_dataset
    from tunedesk.ui.pages.data.preview_tabs import DataPreview

    preview = DataPreview()
    qtbot.addWidget(preview)
    preview.show_data([r.to_dict() for r in load_dataset(sample_dataset()).records[:20]], [])
    header = preview.table.horizontalHeader()
    assert header.textElideMode() == Qt.TextElideMode.ElideRight
    last = header.count() - 1
    tip = preview.preview.headerData(last, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert tip == "Answer (assistant)"
