"""Property-based bad input for a run's config.json (what the worker reads first): broken JSON, wrong types,
missing and extra fields, a preset full of junk. Loading it and checking its preset either succeeds or raises
a TuneDeskError naming the file (and the field, when one is at fault); never another exception."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.unit.bad_input_files import json_values, odd_text

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.preset import Preset
from tunedesk.core.runs import RunConfig, load_config

GOOD = RunConfig(model="starter", data="/data/tickets.jsonl", name="r").to_dict()
PRESET_FIELDS = sorted(Preset().to_dict())


@st.composite
def configs(draw: st.DrawFn) -> bytes:
    config = json.loads(json.dumps(GOOD))
    for _ in range(draw(st.integers(0, 4))):
        what = draw(st.sampled_from(["field", "preset_field", "drop", "extra", "preset"]))
        if what == "field":
            config[draw(st.sampled_from(sorted(GOOD)))] = draw(json_values)
        elif what == "preset_field" and isinstance(config.get("preset"), dict):
            config["preset"][draw(st.sampled_from(PRESET_FIELDS))] = draw(json_values)
        elif what == "drop":
            config.pop(draw(st.sampled_from(sorted(GOOD))), None)
        elif what == "extra":
            config[draw(odd_text)] = draw(json_values)
        elif what == "preset":
            config["preset"] = draw(json_values)
    text = json.dumps(config if draw(st.integers(0, 9)) else draw(json_values)).encode()
    if draw(st.integers(0, 9)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
@example(json.dumps({**GOOD, "data": {"messages": None}}).encode())  # once a TypeError
@example(json.dumps({**GOOD, "preset": {"batch_size": 0}}).encode())  # once without the file's name
@example(b"null")  # once without the file's name
@example(
    json.dumps({**GOOD, "preset": None}).replace("null", "[" * 5000 + "]" * 5000).encode()
)  # RecursionError
def test_a_malformed_config_is_refused_with_file_and_field(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp)
        (run / "config.json").write_bytes(content)
        try:
            config = load_config(run)
        except TuneDeskError as err:
            # A preset's own errors say "source: <file>: preset"; the config's say "file".
            assert err.message and str(run) in str(err.where.get("file") or err.where.get("source")), err
            return
    assert isinstance(config.model, str) and isinstance(config.data, str)
    try:
        config.preset.validate()  # what the worker checks next
    except TuneDeskError as err:
        assert err.message and err.where.get("field") in PRESET_FIELDS, err.to_dict()


def test_settings_files_nested_thousands_deep_are_refused_with_file_and_line(tmp_path: Path) -> None:
    """A config.json or preset file nested 5,000 levels once raised a RecursionError traceback."""
    from tunedesk.core.presets.preset import load_preset_file

    (tmp_path / "config.json").write_text('{"model": "starter", "data": ' + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(TuneDeskError) as err:
        load_config(tmp_path)
    assert err.value.kind == "bad_config" and err.value.where["file"] == str(tmp_path / "config.json")
    assert "nested too deeply" in err.value.message and "line 1" in err.value.message and err.value.hint
    preset = tmp_path / "deep.toml"
    preset.write_text("lora_r = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(TuneDeskError) as err:
        load_preset_file(preset)
    assert err.value.where["file"] == str(preset) and "nested too deeply" in err.value.message
