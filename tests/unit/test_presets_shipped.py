"""The preset files shipped in resources/presets: all load, all describe themselves, all cover the methods."""

from __future__ import annotations

import tomllib

from tunedesk.core.presets.preset import Preset, load_preset_file
from tunedesk.core.presets.select import preset_description, shipped_presets

EXPECTED = {"lora-cpu", "lora-gpu", "qlora-gpu", "dora", "full-small", "dpo"}


def test_every_shipped_preset_loads_and_has_a_description() -> None:
    presets = shipped_presets()
    assert EXPECTED <= set(presets)
    fields = set(Preset.__dataclass_fields__)
    for name, path in presets.items():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert len(preset_description(path)) > 20, name
        assert set(data) - {"description"} <= fields, name  # every key is a Preset field
        preset = load_preset_file(path)  # validates every value
        preset.validate()
    methods = {load_preset_file(p).method for p in presets.values()}
    assert {"lora", "qlora", "dora", "full"} <= methods


def test_learning_rates_follow_the_method() -> None:
    presets = {name: load_preset_file(path) for name, path in shipped_presets().items()}
    assert presets["full-small"].learning_rate <= 2e-5
    assert all(
        p.learning_rate == 2e-4 and p.lora_r == 16 and p.lora_alpha == 32
        for n, p in presets.items()
        if n not in ("full-small", "dpo")
    )


def test_the_dpo_preset_tunes_preferences_gently() -> None:
    dpo = load_preset_file(shipped_presets()["dpo"])
    assert dpo.objective == "dpo" and dpo.beta == 0.1 and dpo.method == "lora"
    # DPO moves a model that already answers; a smaller step than SFT's keeps it from drifting.
    assert dpo.learning_rate < load_preset_file(shipped_presets()["lora-cpu"]).learning_rate
    assert all(load_preset_file(p).objective == "sft" for n, p in shipped_presets().items() if n != "dpo")
