"""The Train page's numbers read as people write them: shares in percent (as on the Data page), whole epochs
without ".000", learning rates as 2e-4; what reaches the preset keeps its meaning (10 % is 0.1)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tunedesk.core.presets.preset import Preset
from tunedesk.ui.pages.train.preset_form import SHARE_FIELDS, PresetForm

pytestmark = pytest.mark.gui


@pytest.fixture
def form(qtbot) -> PresetForm:
    f = PresetForm()
    qtbot.addWidget(f)
    f.set_preset(Preset(val_fraction=0.1, warmup_ratio=0.05, epochs=3.0, learning_rate=2e-4))
    return f


def _shown(form: PresetForm, name: str) -> str:
    return form.rows[name].editor.text()


def test_shares_show_as_percent_and_numbers_without_trailing_zeros(form):
    assert _shown(form, "val_fraction") == "10 %"  # the Data page says "10 %" too
    assert _shown(form, "warmup_ratio") == "5 %"
    assert _shown(form, "lora_dropout") == "5 %"
    assert _shown(form, "general_data_fraction") == "0 %"
    assert _shown(form, "epochs") == "3"
    assert _shown(form, "learning_rate") == "2e-4"
    assert _shown(form, "max_grad_norm") == "1"
    form.set_preset(Preset(epochs=2.5, learning_rate=1.5e-5, min_improvement=0.005))
    assert _shown(form, "epochs") == "2.5"
    assert _shown(form, "learning_rate") == "1.5e-5"
    assert _shown(form, "min_improvement") == "0.5 %"
    assert form.overrides() == {}  # shown differently, the same values: nothing counts as edited


def test_a_typed_percentage_reaches_the_preset_as_a_share(qtbot, form):
    editor = form.rows["val_fraction"].editor
    editor.setFocus()
    editor.selectAll()
    qtbot.keyClicks(editor, "15")
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert _shown(form, "val_fraction") == "15 %"
    preset = form.preset()
    assert preset.val_fraction == 0.15 and preset.warmup_ratio == 0.05 and preset.epochs == 3.0
    assert preset.learning_rate == 2e-4
    assert form.overrides() == {"val_fraction": 0.15}


def test_every_share_of_the_preset_is_a_percent_field(form):
    """Fields whose valid range is 0..1 (per Preset.validate) are the ones shown in percent."""
    for name in SHARE_FIELDS:
        assert form.rows[name].editor.suffix() == " %", name
        assert 0 <= getattr(Preset(), name) < 1
