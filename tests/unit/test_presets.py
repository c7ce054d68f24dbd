from __future__ import annotations

import pytest

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.preset import Preset, apply_overrides, load_preset_file, parse_set_args


def test_every_field_has_a_plain_help_line() -> None:
    helps = Preset.field_help()
    assert len(helps) > 20
    for name, text in helps.items():
        assert text and len(text) < 160 and "\n" not in text, name


def test_overrides_convert_text_to_field_types() -> None:
    p = apply_overrides(
        Preset(), parse_set_args(["lora_r=32", "learning_rate=1e-4", "packing=yes", "epochs=2"])
    )
    assert (p.lora_r, p.learning_rate, p.packing, p.epochs) == (32, 1e-4, True, 2.0)


@pytest.mark.parametrize(
    "items, field",
    [
        (["lora_r=abc"], "lora_r"),
        (["lora_r=2.5"], "lora_r"),
        (["method=magic"], "method"),
        (["learning_rate=5"], "learning_rate"),
        (["warmup_ratio=0.6", "decay_ratio=0.6"], "decay_ratio"),
        (["packing=maybe"], "packing"),
        (["lora_rr=8"], "lora_rr"),
    ],
)
def test_bad_overrides_name_the_field(items: list[str], field: str) -> None:
    with pytest.raises(TuneDeskError) as info:
        apply_overrides(Preset(), parse_set_args(items))
    assert info.value.where["field"] == field
    assert info.value.hint


def test_unknown_setting_suggests_the_close_one() -> None:
    with pytest.raises(TuneDeskError) as info:
        apply_overrides(Preset(), {"lora_rr": 8})
    assert "lora_r" in info.value.hint


def test_set_needs_key_value() -> None:
    with pytest.raises(TuneDeskError, match="key=value"):
        parse_set_args(["lora_r"])


def test_roundtrip_dict() -> None:
    p = apply_overrides(Preset(), {"method": "dora", "seed": 7})
    assert Preset.from_dict(p.to_dict()) == p


def test_preset_file_errors(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("lora_r = [unclosed")
    with pytest.raises(TuneDeskError, match="not valid TOML"):
        load_preset_file(bad)
    with pytest.raises(TuneDeskError, match="does not exist"):
        load_preset_file(tmp_path / "missing.toml")
    good = tmp_path / "good.toml"
    good.write_text('description = "x"\nmethod = "lora"\nlora_r = 8\n')
    assert load_preset_file(good).lora_r == 8
