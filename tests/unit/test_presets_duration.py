"""The time estimate before Start: lengths from the data and preset, speed from earlier runs or the probe."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunedesk.core.data.encode import DataStats
from tunedesk.core.formatting import about_duration, percent, plain_number
from tunedesk.core.hardware.info import HardwareInfo
from tunedesk.core.models.info import ModelInfo
from tunedesk.core.presets.duration import estimate_duration, flops_per_token, measured_gflops
from tunedesk.core.presets.preset import Preset
from tunedesk.core.protocol import EventWriter

from .fakes import hardware

STARTER = ModelInfo(name="starter", params=134_515_008)
STATS = DataStats(n_examples=200, p95_tokens=150, max_tokens=180, total_tokens=24_000, supervised_tokens=4000)


def hw(cores: int = 2, fp32: float = 160.0) -> HardwareInfo:
    return hardware(cpu_physical_cores=cores, cpu_fp32_gflops=fp32, cpu_bf16_gflops=fp32 / 3)


def test_lengths_follow_the_data_and_the_preset(tmp_path: Path) -> None:
    preset = Preset(epochs=3, batch_size=4, grad_accum=2, val_fraction=0.1)
    est = estimate_duration(preset, STATS, hw(), STARTER, "cpu", runs_root=tmp_path)
    # 200 rows - 20 held out = 180 rows, 8 a step: 23 steps an epoch, 69 for three; a quick try is a fifth.
    assert [(c.key, c.max_steps) for c in est.choices] == [("quick", 20), ("full", 69)]
    quick, full = est.choice("quick"), est.choice("full")
    assert quick.seconds < full.seconds
    assert quick.text == f"Quick try, {about_duration(quick.seconds)}" and full.text.startswith(
        "Full, about "
    )
    assert "Estimated" in est.source
    # A max_steps the user set is the full length.
    capped = estimate_duration(Preset(max_steps=40), STATS, hw(), STARTER, "cpu", runs_root=tmp_path)
    assert capped.choice("full").max_steps == 40


def test_a_faster_machine_or_a_smaller_dataset_takes_less(tmp_path: Path) -> None:
    preset = Preset(max_steps=60)
    slow = estimate_duration(preset, STATS, hw(cores=2), STARTER, "cpu", runs_root=tmp_path)
    fast = estimate_duration(preset, STATS, hw(cores=8), STARTER, "cpu", runs_root=tmp_path)
    assert fast.tokens_per_second == pytest.approx(4 * slow.tokens_per_second, rel=0.01)
    assert fast.choice("full").seconds < slow.choice("full").seconds
    tiny = DataStats(n_examples=12, p95_tokens=100, max_tokens=100, total_tokens=1200, supervised_tokens=300)
    only = estimate_duration(Preset(epochs=1), tiny, hw(), STARTER, "cpu", runs_root=tmp_path)
    assert [c.key for c in only.choices] == ["quick"]  # a run this short has one length


def write_run(root: Path, name: str, device: str, tokens_per_second: float, params: int) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    w = EventWriter(log_path=folder / "events.jsonl")
    w.emit("started", run_dir=str(folder), total_steps=10, device=device, method="lora", total_params=params)
    for step, tps in enumerate((tokens_per_second / 2, tokens_per_second), start=1):
        w.emit("step", step=step, total_steps=10, loss=1.0, tokens_per_second=tps)


def test_runs_on_this_machine_give_the_speed(tmp_path: Path) -> None:
    # A run of a model half the starter's size at 400 tokens/s does the work of 200 starter tokens/s.
    write_run(tmp_path, "a", "cpu", 400.0, STARTER.params // 2)
    write_run(tmp_path, "b", "cuda", 9000.0, STARTER.params)  # another device: not this estimate's
    gflops, n = measured_gflops("cpu", tmp_path)
    assert n == 1 and gflops == pytest.approx(400.0 * flops_per_token(STARTER.params // 2, "lora") / 1e9)
    est = estimate_duration(Preset(max_steps=60), STATS, hw(), STARTER, "cpu", runs_root=tmp_path)
    assert est.tokens_per_second == pytest.approx(200.0, rel=0.01)
    assert est.source == "Measured on this machine (1 earlier run)."


@pytest.mark.parametrize(
    "seconds, text", [(10, "about 1 min"), (170, "about 3 min"), (18 * 60 + 20, "about 18 min"),
                      (3600 + 17 * 60, "about 1 h 20 min"), (7200, "about 2 h"), (None, "?")],
)  # fmt: skip
def test_about_duration(seconds: float | None, text: str) -> None:
    assert about_duration(seconds) == text


def test_shares_and_numbers_read_the_same_everywhere() -> None:
    assert [percent(x) for x in (0.1, 0.25, 0.005, 0, None)] == ["10 %", "25 %", "0.5 %", "0 %", "-"]
    assert [plain_number(x) for x in (4.0, 2.5, 0.1, 3e-4, None)] == ["4", "2.5", "0.1", "0.0003", "-"]
