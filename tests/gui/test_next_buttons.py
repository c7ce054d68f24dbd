"""The "Next" buttons lead along Data -> Train -> Export -> Chat; a run with an adapter offers its export."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunedesk.core.presets.preset import Preset
from tunedesk.core.protocol import EventWriter
from tunedesk.core.runs import RunConfig, create_run
from tunedesk.ui.app_state import AppState
from tunedesk.ui.pages.data.page import DataPage
from tunedesk.ui.pages.export.page import ExportPage
from tunedesk.ui.pages.train.page import TrainPage

pytestmark = pytest.mark.gui


def _past_run(data_file: Path, status: str, adapter: bool) -> Path:
    config = RunConfig(model="starter", data=str(data_file), preset=Preset(lora_r=4), name=status)
    layout = create_run(config)
    writer = EventWriter(log_path=layout.events)
    writer.emit("started", run_dir=str(layout.root), total_steps=2)
    writer.emit("step", step=2, total_steps=2, loss=1.0, learning_rate=1e-4)
    writer.emit("finished", status=status, steps=2)
    if adapter:
        layout.adapter.mkdir(parents=True)
        (layout.adapter / "adapter_config.json").write_text("{}")
    return layout.root


def test_data_page_leads_to_train(qtbot):
    page = DataPage(AppState())
    qtbot.addWidget(page)
    assert page.next_button.text().startswith("Next: train")
    with qtbot.waitSignal(page.state.navigate) as nav:
        page.next_button.click()
    assert nav.args == ["train"]
    page.shutdown()


def test_a_finished_run_offers_its_export_and_a_crashed_one_does_not(qtbot, stop_workers, data_file):
    state = AppState()
    page = TrainPage(state)
    qtbot.addWidget(page)
    stop_workers(page.advisor.process)
    button = page.monitor.export_button
    crashed = _past_run(data_file, "cancelled", adapter=False)
    state.request_open(str(crashed))
    assert not button.isVisibleTo(page)  # nothing to export yet: no adapter
    done = _past_run(data_file, "completed", adapter=True)
    state.request_open(str(done))
    assert button.isVisibleTo(page) and button.isEnabled()
    with qtbot.waitSignal(state.navigate) as nav:
        button.click()
    assert nav.args == ["export"] and state.run_dir == str(done)


def test_export_leads_to_chat_once_a_file_exists(qtbot, tmp_path: Path):
    page = ExportPage(AppState())
    qtbot.addWidget(page)
    button = page.chat_button
    assert button.text().startswith("Next: chat") and not button.isEnabled()
    gguf = tmp_path / "model-q8_0.gguf"
    gguf.write_bytes(b"GGUF")
    page.result_card.show_result(str(gguf), "")
    with qtbot.waitSignal(page.state.navigate) as nav:
        button.click()
    assert nav.args == ["chat"]
