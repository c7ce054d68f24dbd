"""Pickle weights from the app: the Machine page shows the refusal and an unchecked consent box; a run started
from the Train page after the box is ticked records that consent (for that model alone) and trains with the
REAL worker (the tiny random Llama of tests/conftest.py, saved as pickle, trains a step in seconds)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tunedesk.core.runs import load_config
from tunedesk.ui.app_state import AppState
from tunedesk.ui.pages.machine.page import MachinePage
from tunedesk.ui.pages.train.page import TrainPage

pytestmark = [pytest.mark.gui, pytest.mark.e2e]


@pytest.fixture
def pickle_only_model(tmp_path: Path, tiny_model_dir: Path) -> Path:
    import torch
    from safetensors.torch import load_file

    out = tmp_path / "pickled"
    shutil.copytree(tiny_model_dir, out, ignore=shutil.ignore_patterns("*.safetensors"))
    torch.save(load_file(tiny_model_dir / "model.safetensors"), out / "pytorch_model.bin")
    return out


def test_a_pickle_model_trains_from_the_app_only_with_consent_for_it(
    qtbot, stop_workers, pickle_only_model: Path, data_file: Path
) -> None:
    state = AppState()
    machine, train = MachinePage(state), TrainPage(state)
    for widget in (machine, train):
        qtbot.addWidget(widget)
    stop_workers(train.worker)
    stop_workers(train.advisor.process)
    state.set_data_path(str(data_file))
    qtbot.waitUntil(lambda: state.model_ref == "starter", timeout=60_000)
    ref = str(pickle_only_model)
    machine.add_model(ref)  # core refuses it without consent: it is listed, with its consent box
    qtbot.waitUntil(lambda: (state.model_info or {}).get("path") == ref, timeout=120_000)
    box = machine.model_card.consent
    assert state.model_ref == ref and box.isVisibleTo(machine) and not box.checkbox.isChecked()
    assert "pickle" in box.risks.text() and "runs any code" in box.risks.text()
    assert (
        "allow code in its weights (pickle)" in box.checkbox.text()
        and "run its own code" not in box.checkbox.text()
    )
    assert machine.banner.isHidden()  # no CLI-worded refusal in the app
    assert state.consent_for(ref) == {"allow_pickle": False, "trust_remote_code": False}

    qtbot.waitUntil(lambda: train.settings.advised, timeout=300_000)
    assert not train.start_training()  # refused without consent, in the app's words
    shown = train.banner.message.text() + train.banner.hint.text()
    assert "Machine & model" in shown and "--allow-pickle" not in shown and not state.run_dir

    box.checkbox.click()
    assert state.consent_for(ref) == {"allow_pickle": True, "trust_remote_code": False}
    assert (
        "pickle weights allowed" in train.subtitle.text()
        and "Allowed for this model only" in box.status.text()
    )
    machine.models.select("starter")  # another model: never on for it
    assert not box.isVisibleTo(machine) and not any(state.consent_for("starter").values())
    assert "allowed" not in train.subtitle.text()
    machine.models.select(ref)
    assert box.checkbox.isChecked()  # kept for the model it was given for

    qtbot.waitUntil(lambda: train.settings.advised, timeout=300_000)  # the advice, asked with the consent
    assert "pickle" not in train.estimate.verdict.text()
    train.form.rows["max_steps"].set_value(1)
    train.form.rows["max_steps"].changed.emit()
    with qtbot.waitSignal(train.worker.started, timeout=10_000):
        assert train.start_training()
    config = load_config(state.run_dir)
    assert config.model == ref and config.allow_pickle and not config.trust_remote_code
    with qtbot.waitSignal(train.worker.finished, timeout=600_000) as ended:
        pass
    assert ended.args[0].status == "completed", train.log.toPlainText()[-3000:]
    assert (Path(state.run_dir) / "adapter" / "adapter_config.json").is_file()
