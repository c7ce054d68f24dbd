"""Machine & model page: the real hardware probe (a subprocess) and the real model list and model files."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tunedesk.ui.app_state import AppState
from tunedesk.ui.pages.machine.hardware_card import hardware_facts
from tunedesk.ui.pages.machine.model_list import model_line
from tunedesk.ui.pages.machine.page import MachinePage

pytestmark = pytest.mark.gui


def _tiny_folder(root: Path, architecture: str) -> Path:
    """A model folder core accepts: config.json, tokenizer file, and a one-tensor safetensors file."""
    root.mkdir()
    config = {
        "architectures": [architecture],
        "model_type": "tinything",
        "num_hidden_layers": 1,
        "hidden_size": 8,
        "num_attention_heads": 2,
        "intermediate_size": 16,
        "vocab_size": 32,
    }
    (root / "config.json").write_text(json.dumps(config))
    (root / "tokenizer.json").write_text("{}")
    header = json.dumps({"w": {"dtype": "F32", "shape": [4, 8], "data_offsets": [0, 128]}}).encode()
    (root / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 128)
    return root


@pytest.fixture
def page(qtbot) -> MachinePage:
    page = MachinePage(AppState())
    qtbot.addWidget(page)
    return page


def test_shows_the_probed_hardware_in_plain_words(qtbot, page: MachinePage) -> None:
    with qtbot.waitSignal(page.hardware_ready, timeout=180000) as blocker:
        pass
    hw = blocker.args[0]
    assert page.state.hardware == hw
    assert page.summary.text() == hw["summary"]
    assert any(words in hw["summary"] for words in ("on CPU", "on this GPU", "Apple GPU"))
    assert (
        page.hw_values["CPU cores"]
        .text()
        .startswith(str(hw["cpu_physical_cores"] or hw["cpu_logical_cores"]))
    )
    assert "GB" in page.hw_values["Memory"].text() and "GB" in page.hw_values["Free disk"].text()
    assert page.probe_button.isEnabled()


def test_lists_and_preselects_the_starter_model(qtbot, page: MachinePage) -> None:
    qtbot.waitUntil(lambda: page.state.model_ref == "starter", timeout=60000)
    qtbot.waitUntil(lambda: bool(page.state.model_info), timeout=60000)  # details are read in a thread
    text = page.entry_text(page.models.currentItem())
    assert "SmolLM2-135M-Instruct" in text and "starter model" in text
    assert "135M parameters" in text and "MB on disk" in text and "exports to GGUF" in text
    assert page.state.model_info["params"] > 100_000_000
    assert page.detail_values["Chat template"].text() == "yes"
    assert page.detail_values["Architecture"].text() == "LlamaForCausalLM"
    assert page.export_note.text().startswith("✓")


def test_adding_a_gguf_file_and_a_folder_that_cannot_be_exported(
    qtbot, page: MachinePage, starter_gguf: Path, tmp_path: Path
) -> None:
    qtbot.waitUntil(lambda: page.state.model_ref == "starter", timeout=60000)
    with qtbot.waitSignal(page.state.model_changed, timeout=60000) as blocker:
        page.add_model(str(starter_gguf))
    assert Path(blocker.args[0]) == starter_gguf
    folder = _tiny_folder(tmp_path / "odd-model", "TotallyUnknownForCausalLM")
    with qtbot.waitSignal(page.state.model_changed, timeout=60000) as blocker:
        page.add_model(str(folder))
    assert blocker.args[0] == str(folder)
    qtbot.waitUntil(lambda: (page.state.model_info or {}).get("path") == str(folder), timeout=60000)
    assert page.state.model_info["exportable"] is False
    assert "cannot be exported to GGUF" in page.entry_text(page.models.currentItem())
    assert page.export_note.text().startswith("⚠")  # with core's note saying why


def test_a_folder_without_a_model_shows_a_readable_error(qtbot, page: MachinePage, tmp_path: Path) -> None:
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    page.add_model(str(empty))
    qtbot.waitUntil(lambda: not page.banner.isHidden(), timeout=30000)
    assert page.banner.message.text() and "not-a-model" in page.banner.message.text()


def test_formatting_helpers_are_readable() -> None:
    facts = dict(
        hardware_facts(
            {
                "cuda": [{"name": "RTX 4070", "total_mb": 12282, "free_mb": 11000}],
                "cpu_physical_cores": 8,
                "cpu_logical_cores": 16,
                "disk_free_mb": 200_000,
            }
        )
    )
    assert facts == {
        "Device": "RTX 4070",
        "Memory": "12.0 GB (10.7 GB free)",
        "CPU cores": "8 (16 threads)",
        "Free disk": "195 GB",
    }
    assert model_line({"params": 7_240_000_000, "size_on_disk_mb": 13_800, "exportable": False}).startswith(
        "7.2B"
    )


def test_building_the_page_does_not_import_torch() -> None:
    code = (
        "import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
        "from tunedesk.ui.app_state import AppState; from tunedesk.ui.pages.machine.page import MachinePage;"
        "page = MachinePage(AppState());"
        "print(sorted(m for m in ('llama_cpp', 'torch', 'transformers') if m in sys.modules))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
