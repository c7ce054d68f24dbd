"""Preset selection across injected hardware and models: method, precision, sizing, errors, overrides."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.models.info import ModelInfo, model_info
from tunedesk.core.models.source import resolve_model
from tunedesk.core.presets.select import (
    MAX_AUTO_STEPS,
    MAX_EPOCHS,
    DataStats,
    nearest_workable,
    select_preset,
)

from .fakes import LLAMA7B, gpu, hardware

CHAT_ROWS = DataStats(
    n_examples=240, p95_tokens=127, max_tokens=136, total_tokens=26_253, supervised_tokens=6_000
)


@pytest.fixture(scope="module")
def smol() -> ModelInfo:
    return model_info(resolve_model("starter"))  # the real starter's numbers, read from its GGUF


CPU = hardware()
CPU_AMX = hardware(cpu_fp32_gflops=336.0, cpu_bf16_gflops=1205.0)
GPU_8_BNB = hardware(cuda=[gpu(8)], bnb_4bit=True, bitsandbytes="0.48.0")
GPU_8_NO_BNB = hardware(cuda=[gpu(8)], bnb_error="bitsandbytes is not installed")
GPU_24_BNB = hardware(cuda=[gpu(24)], bnb_4bit=True)
GPU_80 = hardware(cuda=[gpu(80, "9.0")], bnb_4bit=True)
GPU_T4 = hardware(cuda=[gpu(16, "7.5", bf16=False)], bnb_4bit=True)
MPS = hardware(mps=True, mps_bf16=True, mps_memory_mb=21_000)
MPS_OLD = hardware(mps=True, mps_bf16=False, mps_memory_mb=10_000)


def test_cpu_starter_is_lora_fp32_without_checkpointing(smol: ModelInfo) -> None:
    sel = select_preset(CPU, smol, CHAT_ROWS)
    p = sel.preset
    assert (sel.device, p.name, p.method, p.precision) == ("cpu", "lora-cpu", "lora", "fp32")
    assert not p.gradient_checkpointing and p.lora_r == 16 and p.lora_alpha == 32 and p.learning_rate == 2e-4
    assert sel.estimate.fits and sel.estimate.comfortable and not sel.warnings
    assert any("157 GFLOP/s" in r for r in sel.reasons)  # precision explained by the measurement
    assert len(sel.reasons) >= 6 and all(r.endswith(".") for r in sel.reasons)
    json.dumps(sel.to_dict())  # serialisable as is


def test_cpu_with_fast_bf16_trains_in_bf16(smol: ModelInfo) -> None:
    assert select_preset(CPU_AMX, smol, CHAT_ROWS).preset.precision == "bf16"


def test_dpo_on_a_cpu_stays_in_fp32_even_where_bf16_is_faster(smol: ModelInfo) -> None:
    for sel in (
        select_preset(CPU_AMX, smol, CHAT_ROWS, requested="dpo"),
        select_preset(CPU_AMX, smol, CHAT_ROWS, {"objective": "dpo"}),
    ):
        assert sel.preset.objective == "dpo" and sel.preset.precision == "fp32"
        assert any("DPO" in reason for reason in sel.reasons)


def test_seq_len_comes_from_the_data(smol: ModelInfo) -> None:
    assert select_preset(CPU, smol, CHAT_ROWS).preset.seq_len == 192  # longest row 136, rounded up to 64s
    skewed = DataStats(
        n_examples=1000, p95_tokens=300, max_tokens=5000, total_tokens=250_000, supervised_tokens=0
    )
    sel = select_preset(CPU, smol, skewed)
    assert sel.preset.seq_len == 320 and any("95%" in r for r in sel.reasons)  # a few outliers are cut
    capped = replace(smol, max_positions=256)
    assert select_preset(CPU, capped, skewed).preset.seq_len == 256  # never beyond the model's limit
    assert select_preset(CPU, smol).preset.seq_len == 512  # no data: the preset's default


def test_text_windows_are_counted_at_the_chosen_seq_len(smol: ModelInfo) -> None:
    # 50 documents of ~500 tokens, measured in 4096-token windows (6 of them): at seq_len 512 there are ~48.
    text = DataStats(
        n_examples=6, p95_tokens=480, max_tokens=500, total_tokens=24_600, supervised_tokens=24_600
    )
    sel = select_preset(CPU, smol, text)
    assert sel.preset.seq_len == 512 and any("(44 training examples)" in r for r in sel.reasons)


def test_epochs_follow_the_data_size(smol: ModelInfo) -> None:
    tiny = DataStats(n_examples=40, p95_tokens=100, max_tokens=110, total_tokens=4000, supervised_tokens=0)
    sel = select_preset(CPU, smol, tiny)
    assert sel.preset.epochs == MAX_EPOCHS and sel.preset.max_steps == 0
    assert sel.preset.batch_size * sel.preset.grad_accum <= 36 // 10  # >= 10 updates per epoch
    big = DataStats(
        n_examples=200_000, p95_tokens=100, max_tokens=110, total_tokens=2 * 10**7, supervised_tokens=0
    )
    sel = select_preset(CPU, smol, big)
    assert sel.preset.epochs == 1 and sel.preset.max_steps == MAX_AUTO_STEPS
    assert any("Capped at" in r for r in sel.reasons)


def test_7b_on_small_gpu_with_bitsandbytes_is_qlora() -> None:
    sel = select_preset(GPU_8_BNB, LLAMA7B, CHAT_ROWS)
    assert (sel.device, sel.preset.method, sel.preset.name, sel.preset.precision) == (
        "cuda",
        "qlora",
        "qlora-gpu",
        "bf16",
    )
    assert sel.estimate.fits and sel.reasons[0].startswith("QLoRA")


def test_7b_on_small_gpu_without_bitsandbytes_warns() -> None:
    sel = select_preset(GPU_8_NO_BNB, LLAMA7B, CHAT_ROWS)
    assert sel.preset.method == "lora" and not sel.estimate.fits
    assert any("bitsandbytes" in w for w in sel.warnings) and any(
        w.startswith("Memory:") for w in sel.warnings
    )


def test_7b_on_big_gpu_is_16_bit_lora() -> None:
    for hw in (GPU_24_BNB, GPU_80):
        sel = select_preset(hw, LLAMA7B, CHAT_ROWS)
        assert (sel.preset.method, sel.preset.precision, sel.preset.name) == ("lora", "bf16", "lora-gpu")
        assert sel.estimate.comfortable
    assert select_preset(GPU_80, LLAMA7B, CHAT_ROWS).preset.batch_size >= 8


def test_gpu_busy_at_probe_time_is_a_warning_not_a_different_choice(smol: ModelInfo) -> None:
    busy = hardware(cuda=[replace(gpu(24, "8.9"), free_mb=6_000)], bnb_4bit=True)
    sel = select_preset(busy, LLAMA7B, CHAT_ROWS)
    assert sel.preset.method == select_preset(GPU_24_BNB, LLAMA7B, CHAT_ROWS).preset.method
    assert any("Other programs were using" in w for w in sel.warnings)


def test_old_gpu_uses_fp16(smol: ModelInfo) -> None:
    sel = select_preset(GPU_T4, smol, CHAT_ROWS)
    assert sel.preset.precision == "fp16" and sel.preset.method == "lora"


def test_mps(smol: ModelInfo) -> None:
    sel = select_preset(MPS, smol, CHAT_ROWS)
    assert (sel.device, sel.preset.method, sel.preset.precision, sel.preset.name) == (
        "mps",
        "lora",
        "bf16",
        "lora-gpu",
    )
    assert select_preset(MPS_OLD, smol, CHAT_ROWS).preset.precision == "fp32"


def test_checkpointing_only_when_memory_is_tight() -> None:
    long_rows = DataStats(
        n_examples=5000, p95_tokens=4000, max_tokens=4096, total_tokens=2 * 10**7, supervised_tokens=0
    )
    tight = select_preset(GPU_8_BNB, LLAMA7B, long_rows)
    assert tight.preset.gradient_checkpointing and any("checkpointing on" in r for r in tight.reasons)
    roomy = select_preset(GPU_80, LLAMA7B, CHAT_ROWS)
    assert not roomy.preset.gradient_checkpointing


def test_7b_on_cpu_says_it_is_slow_and_does_not_fit() -> None:
    small_ram = hardware(ram_total_mb=16_384, ram_available_mb=12_000)
    sel = select_preset(small_ram, LLAMA7B, CHAT_ROWS)
    assert sel.preset.method == "lora" and not sel.estimate.fits
    assert any("takes days" in w for w in sel.warnings)


def test_qlora_on_cpu_names_the_nearest_workable_preset(smol: ModelInfo) -> None:
    with pytest.raises(TuneDeskError) as err:
        select_preset(CPU, smol, CHAT_ROWS, requested="qlora")
    e = err.value
    assert e.kind == "method_unavailable" and "NVIDIA GPU" in e.message
    assert "'lora-cpu'" in e.hint and "--preset lora-cpu" in e.hint and "fits with" in e.hint
    with pytest.raises(TuneDeskError, match="NVIDIA") as err:  # the shipped preset file, or --set method=
        select_preset(MPS, smol, None, overrides={"method": "qlora"})
    assert "'lora-gpu'" in err.value.hint


def test_qlora_without_bitsandbytes_says_how_to_get_it() -> None:
    with pytest.raises(TuneDeskError) as err:
        select_preset(GPU_8_NO_BNB, LLAMA7B, CHAT_ROWS, requested="qlora-gpu")
    assert err.value.kind == "method_unavailable" and "bitsandbytes is not installed" in err.value.message
    assert "pip install 'tunedesk[cuda]'" in err.value.hint


def test_full_fine_tuning_that_does_not_fit_is_refused(smol: ModelInfo) -> None:
    with pytest.raises(TuneDeskError) as err:
        select_preset(GPU_24_BNB, LLAMA7B, CHAT_ROWS, requested="full")
    assert err.value.kind == "method_unavailable" and "Full fine-tuning" in err.value.message
    assert "'lora-gpu'" in err.value.hint
    sel = select_preset(CPU, smol, CHAT_ROWS, requested="full")  # a 135M model fits: allowed
    assert sel.preset.method == "full" and sel.preset.learning_rate == 1e-5


def test_nearest_workable() -> None:
    assert nearest_workable(GPU_8_BNB, LLAMA7B, CHAT_ROWS, "full")[0] == "qlora-gpu"
    name, why = nearest_workable(CPU, LLAMA7B.__class__(**{**LLAMA7B.to_dict(), "params": 135_000_000}))
    assert name == "lora-cpu" and "LoRA in fp32 on the CPU" in why


def test_overrides_win(smol: ModelInfo) -> None:
    sets = {
        "batch_size": "2",
        "lora_r": "32",
        "precision": "bf16",
        "gradient_checkpointing": "true",
        "epochs": "1",
    }
    sel = select_preset(CPU, smol, CHAT_ROWS, overrides=sets)
    p = sel.preset
    assert (p.batch_size, p.lora_r, p.precision, p.gradient_checkpointing, p.epochs) == (
        2,
        32,
        "bf16",
        True,
        1.0,
    )
    assert sel.overridden == sorted(sets) and any(r.startswith("Your settings win") for r in sel.reasons)
    # no reason may claim an automatic choice for a field the user set
    assert not any(
        r.startswith(("Precision", "Batch", "Gradient", "No gradient", "Learning")) for r in sel.reasons
    )
    assert sel.estimate.total_mb > 0 and p.lora_alpha == 32  # other choices still made
    with pytest.raises(TuneDeskError, match="Unknown setting") as err:
        select_preset(CPU, smol, overrides={"lora_rank": "8"})
    assert "lora_r" in err.value.hint


def test_requested_preset_names_and_files(smol: ModelInfo, tmp_path: Path) -> None:
    assert select_preset(CPU, smol, CHAT_ROWS, requested="dora").preset.method == "dora"
    assert (
        select_preset(CPU, smol, CHAT_ROWS, requested="lora-gpu").preset.precision == "fp32"
    )  # device decides
    mine = tmp_path / "mine.toml"
    mine.write_text('description = "mine"\nbatch_size = 3\nlora_r = 8\nprecision = "bf16"\n')
    p = select_preset(CPU, smol, CHAT_ROWS, requested=str(mine)).preset
    assert (p.name, p.batch_size, p.lora_r, p.precision) == ("mine", 3, 8, "bf16")  # written fields are kept
    with pytest.raises(TuneDeskError, match="Unknown preset") as err:
        select_preset(CPU, smol, requested="turbo")
    assert "lora-cpu" in err.value.hint and err.value.kind == "bad_setting"


PAIRS = replace(CHAT_ROWS, preference=True)


def test_preference_pairs_get_the_dpo_preset_and_other_data_sft(smol: ModelInfo) -> None:
    """The automatic choice (the GUI's, through doctor) trains pairs with DPO: never the SFT that refuses them."""
    dpo = select_preset(CPU, smol, PAIRS)
    p = dpo.preset
    assert (p.objective, p.name, p.method, p.precision) == ("dpo", "dpo", "lora", "fp32")
    assert p.beta == 0.1 and p.learning_rate == 1e-4 and p.general_data_fraction == 0.0
    assert any(r.startswith("Preference tuning (DPO): the data holds preference pairs") for r in dpo.reasons)
    p.validate()
    sft = select_preset(CPU, smol, CHAT_ROWS)
    assert sft.preset.objective == "sft" and any(r.startswith("Supervised fine-tuning") for r in sft.reasons)
    assert select_preset(CPU, smol, None).preset.objective == "sft"
    # On a GPU the pairs keep the GPU's 16-bit format (DPO's fp32 is for the CPU and the Apple GPU), and a
    # 7B that needs QLoRA is preference-tuned with QLoRA.
    assert select_preset(GPU_80, smol, PAIRS).preset.precision == "bf16"
    assert select_preset(GPU_80, smol, PAIRS, requested="dpo").preset.precision == "bf16"
    qlora = select_preset(GPU_8_BNB, LLAMA7B, PAIRS).preset
    assert (qlora.objective, qlora.method, qlora.precision) == ("dpo", "qlora", "bf16")
    assert select_preset(MPS, smol, PAIRS).preset.precision == "fp32"


def test_a_preset_or_objective_the_user_chose_wins_over_the_data(smol: ModelInfo) -> None:
    assert select_preset(CPU, smol, PAIRS, {"objective": "sft"}).preset.objective == "sft"
    assert select_preset(CPU, smol, PAIRS, requested="lora-cpu").preset.objective == "sft"
    assert select_preset(CPU, smol, PAIRS, requested="dora").preset.objective == "dpo"  # a DPO method
    assert select_preset(CPU, smol, PAIRS, requested="dora").preset.method == "dora"
    full = select_preset(CPU, smol, PAIRS, requested="full")  # DPO cannot train it: the data check says so
    assert full.preset.objective == "sft" and not any("DPO" in r for r in full.reasons)
