"""The preset selector mixes general data into chat models' training by default, says why, and obeys --set."""

from __future__ import annotations

from dataclasses import replace

from tunedesk.core.presets.rules import CHAT_GENERAL_FRACTION
from tunedesk.core.presets.select import select_preset

from .test_preset_select import CHAT_ROWS, CPU, LLAMA7B


def test_chat_models_mix_general_data_by_default() -> None:
    sel = select_preset(CPU, LLAMA7B, CHAT_ROWS)
    assert sel.preset.general_data_fraction == CHAT_GENERAL_FRACTION == 0.2
    assert any("answers to general prompts" in r for r in sel.reasons)


def test_base_models_mix_none_and_the_user_wins() -> None:
    base = select_preset(CPU, replace(LLAMA7B, has_chat_template=False), CHAT_ROWS)
    assert base.preset.general_data_fraction == 0.0
    pinned = select_preset(CPU, LLAMA7B, CHAT_ROWS, {"general_data_fraction": 0.35})
    assert pinned.preset.general_data_fraction == 0.35
    assert not any("answers to general prompts" in r for r in pinned.reasons)


def test_preference_runs_mix_none() -> None:
    sel = select_preset(CPU, LLAMA7B, CHAT_ROWS, requested="dpo")
    assert sel.preset.objective == "dpo"
    assert sel.preset.general_data_fraction == 0.0
    assert any("preference tuning" in r for r in sel.reasons)
