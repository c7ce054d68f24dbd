"""Export page: driven end to end by a fake export worker that prints canned protocol events."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from tunedesk.core.presets.preset import Preset
from tunedesk.core.runs import RunConfig, create_run
from tunedesk.ui.app_state import AppState
from tunedesk.ui.pages.export.page import ExportPage
from tunedesk.ui.pages.export.quant_picker import QUANT_CHOICES

pytestmark = pytest.mark.gui

FAKE_WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from tunedesk.core.protocol import EventWriter

    args = sys.argv[1:]
    assert args[0] == "export", args
    run = Path(args[1])
    quant = args[args.index("--quant") + 1]
    out = run / "export"
    out.mkdir(exist_ok=True)
    w = EventWriter(stream=sys.stdout)
    if quant == "f16":
        w.emit("stage", stage="merge", status="running", fraction=0.0, message="Merging")
        w.emit("error", kind="out_of_memory", message="Not enough memory to merge.", hint="Close other apps.")
        w.emit("finished", status="failed")
        sys.exit(1)
    for stage in ("merge", "convert", "quantize", "verify"):
        w.emit("stage", stage=stage, status="running", fraction=0.5, message=f"{stage} in progress")
        time.sleep(0.05)
        detail = None
        if stage == "verify":
            detail = {"passed": True, "chat_template": True, "stops_at_end_of_turn": True,
                      "token_agreement": 0.97, "perplexity_merged": 8.123, "perplexity_gguf": 8.301,
                      "agreement": None}
        w.emit("stage", stage=stage, status="done", message=f"{stage} done", detail=detail)
    gguf = out / f"model-{quant}.gguf"
    gguf.write_bytes(b"GGUF")
    modelfile = out / "Modelfile"
    modelfile.write_text(f"FROM ./{gguf.name}\\nPARAMETER stop <|im_end|>\\n")
    w.emit("finished", status="completed", gguf_path=str(gguf), modelfile_path=str(modelfile))
    """
)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    layout = create_run(RunConfig(model="starter", data="notes.jsonl", preset=Preset()), tmp_path / "run")
    return layout.root


@pytest.fixture
def page(qtbot, tmp_path: Path, run_dir: Path) -> ExportPage:
    script = tmp_path / "fake_export_worker.py"
    script.write_text(FAKE_WORKER)
    state = AppState()
    state.set_run_dir(str(run_dir))
    page = ExportPage(state)
    page.make_command = lambda *args: [sys.executable, str(script), *args]
    qtbot.addWidget(page)
    return page


def test_lists_quants_and_preselects_the_state_run(qtbot, page: ExportPage, run_dir: Path) -> None:
    assert page.run_dir == str(run_dir)
    assert set(page.quant_radios) == set(QUANT_CHOICES)
    qtbot.waitUntil(lambda: page.recommended != "", timeout=60000)  # worked out in a thread
    assert page.quant == "q8_0"  # core's recommendation for a 135M model
    assert "(recommended)" in page.quant_radios["q8_0"].text()
    assert "Small models" in page.recommend_label.text()
    # The starter's 576-wide rows: q5_k_m comes out worse than q4_k_m (docs/verification.md), so not offered.
    assert not page.quant_radios["q5_k_m"].isEnabled()
    assert "576-wide rows" in page.quant_picker.quant_notes["q5_k_m"].text()
    assert all(page.quant_radios[q].isEnabled() for q in QUANT_CHOICES if q != "q5_k_m")
    assert page.start_button.isEnabled()


def test_export_shows_stages_checks_and_sets_gguf(qtbot, page: ExportPage, run_dir: Path) -> None:
    page.quant_radios["q4_k_m"].setChecked(True)
    with qtbot.waitSignal(page.state.gguf_changed, timeout=20000) as blocker:
        page.start_button.click()
    gguf = Path(blocker.args[0])
    assert gguf == run_dir / "export" / "model-q4_k_m.gguf"
    assert page.progress.value() == page.progress.maximum()
    assert all(icon.text() == "✓" for icon, _ in page.stage_rows.values())
    shown = [page.checks.itemAt(i).widget().text() for i in range(page.checks.count())]
    assert shown[0].startswith("The GGUF file works")  # the verdict in one sentence comes first
    assert "Chat template kept" in shown
    assert "97 %" in shown and "8.301" in shown and "not measured" in shown
    assert "already beside model-q4_k_m.gguf" in page.result_card.modelfile_note.text()
    assert "FROM ./model-q4_k_m.gguf" in page.modelfile.toPlainText()
    assert page.open_button.isEnabled() and page.copy_button.isEnabled()
    page.copy_button.click()
    from PySide6.QtGui import QGuiApplication

    assert "PARAMETER stop" in QGuiApplication.clipboard().text()


def test_failed_export_shows_the_error_and_hint(qtbot, page: ExportPage) -> None:
    page.quant_radios["f16"].setChecked(True)
    with qtbot.waitSignal(page.proc.finished, timeout=20000):
        page.start_button.click()
    assert not page.error_banner.isHidden()
    assert "Not enough memory" in page.error_banner.message.text()
    assert "Close other apps" in page.error_banner.hint.text()
    assert page.stage_rows["merge"][0].text() == "◐"
    assert page.state.gguf_path == ""
    assert page.start_button.isEnabled()


def test_the_users_quant_choice_survives_leaving_the_page(qtbot, page: ExportPage) -> None:
    qtbot.waitUntil(lambda: page.recommended != "", timeout=60000)
    page.quant_radios["q6_k"].click()
    page.show()
    page.hide()
    page.show()  # showEvent refreshes the run list
    assert page.quant == "q6_k"


def test_only_the_checkpoints_the_run_has_are_offered(qtbot, page: ExportPage, run_dir: Path) -> None:
    (run_dir / "adapter").mkdir()
    (run_dir / "adapter" / "adapter_config.json").write_text("{}")
    page.refresh_runs()
    assert page.final_radio.isChecked() and not page.best_radio.isEnabled()


def test_a_run_exported_earlier_shows_its_file_when_chosen_again(qtbot, tmp_path: Path) -> None:
    """After a restart the Export page shows the run's finished GGUF (from the export's own events.jsonl), and
    a run never exported, or whose file is gone, shows nothing."""
    from tunedesk.core.protocol import EventWriter

    done = create_run(RunConfig(model="starter", data="notes.jsonl", preset=Preset()), tmp_path / "done").root
    fresh = create_run(
        RunConfig(model="starter", data="notes.jsonl", preset=Preset()), tmp_path / "fresh"
    ).root
    out = done / "export"
    out.mkdir()
    gguf, modelfile = out / "done-q8_0.gguf", out / "Modelfile"
    gguf.write_bytes(b"GGUF")
    modelfile.write_text("FROM ./done-q8_0.gguf\n")
    writer = EventWriter(stream=None, log_path=out / "events.jsonl")
    writer.emit("stage", stage="merge", status="done", message="merged")
    checks = {"passed": True, "chat_template": True, "stops_at_end_of_turn": True, "token_agreement": 0.97}
    writer.emit("stage", stage="verify", status="done", message="verified", detail=checks)
    writer.emit(
        "finished",
        status="completed",
        gguf_path=str(gguf),
        modelfile_path=str(modelfile),
        verification=checks,
    )
    state = AppState()
    state.set_run_dir(str(done))
    page = ExportPage(state)
    qtbot.addWidget(page)
    assert "done-q8_0.gguf" in page.result_card.gguf_label.full_text
    assert page.chat_button.isEnabled() and "FROM ./done-q8_0.gguf" in page.modelfile.toPlainText()
    assert page.progress.value() == page.progress.maximum()
    icons = {stage: icon.text() for stage, (icon, _label) in page.stage_rows.items()}
    assert icons["merge"] == icons["verify"] == "✓"  # replayed from that export's own events
    page.chat_button.click()
    assert state.gguf_path == str(gguf)
    state.set_run_dir(str(fresh))
    assert (
        page.result_card.gguf_label.full_text == "Nothing exported yet." and not page.chat_button.isEnabled()
    )
    gguf.unlink()
    state.set_run_dir(str(done))
    assert page.result_card.gguf_label.full_text == "Nothing exported yet."
