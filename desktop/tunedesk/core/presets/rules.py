"""The rules `select_preset` applies, one function per decision, each returning its plain-language reason.

The numbers that shape the choices are the constants below; the memory model itself is in memory.py.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from tunedesk.core.formatting import gb
from tunedesk.core.hardware.info import HardwareInfo
from tunedesk.core.models.info import ModelInfo
from tunedesk.core.presets.memory import MemoryEstimate, estimate_memory
from tunedesk.core.presets.preset import Preset

SIZED_FIELDS = (
    "precision",
    "seq_len",
    "batch_size",
    "grad_accum",
    "gradient_checkpointing",
    "epochs",
    "max_steps",
)
MIN_SEQ_LEN = 64
TARGET_EFFECTIVE_BATCH = {"cpu": 8, "mps": 16, "cuda": 16}
MIN_BATCH_BEFORE_CHECKPOINTING = {"cpu": 1, "mps": 2, "cuda": 2}  # tiny batches waste a GPU
EXAMPLES_SEEN_TARGET = 1000  # small sets get more epochs, until about this many examples were seen
MAX_EPOCHS = 4
MIN_STEPS_PER_EPOCH = 10
MAX_AUTO_STEPS = 2000
SLOW_ON_CPU_PARAMS = 1.5e9


def choose_precision(hw: HardwareInfo, device: str, method: str) -> tuple[str, str]:
    if device == "cuda":
        gpu = hw.cuda[0]
        if gpu.bf16:
            return (
                "bf16",
                f"Precision bf16: halves memory and runs on the tensor cores of this GPU (compute {gpu.capability}).",
            )
        return "fp16", f"Precision fp16, because this GPU (compute {gpu.capability}) has no fast bf16."
    if device == "mps":
        if hw.mps_bf16:
            return "bf16", "Precision bf16: halves memory on the Apple GPU."
        return (
            "fp32",
            "Precision fp32, because this macOS has no bf16 on the Apple GPU (fp16 training there is fragile).",
        )
    f32, b16 = hw.cpu_fp32_gflops, hw.cpu_bf16_gflops
    if hw.cpu_prefers_bf16:
        return (
            "bf16",
            f"Precision bf16: a core of this CPU measured {b16:.0f} GFLOP/s in bf16 against {f32:.0f} in fp32.",
        )
    if f32 and b16:
        return (
            "fp32",
            f"Precision fp32: a core of this CPU measured {f32:.0f} GFLOP/s in fp32 against {b16:.0f} in bf16.",
        )
    return "fp32", "Precision fp32, the fast path on most CPUs (the bf16 speed was not measured)."


def choose_seq_len(info: ModelInfo, data: Any, default: int) -> tuple[int, str]:
    cap = info.max_positions or 2048
    if data is None or not getattr(data, "max_tokens", 0):
        seq = min(default, cap)
        return seq, f"Sequence length {seq} from the preset (no data given to measure)."
    p95, longest = max(int(data.p95_tokens), 1), int(data.max_tokens)
    # Covering the longest row is worth it when it is not much longer than most rows.
    wanted = longest if longest <= p95 * 1.25 else p95
    seq = min(max(MIN_SEQ_LEN, math.ceil(wanted / 64) * 64), cap)
    if seq >= longest:
        why = f"Sequence length {seq}: the longest example has {longest} tokens, so nothing is cut."
    else:
        why = (
            f"Sequence length {seq}: 95% of examples have at most {p95} tokens; the few longer ones (up to "
            f"{longest}) are cut rather than making every step slower."
        )
    if seq == cap and wanted > cap:
        why = f"Sequence length {seq}: the model's limit; examples up to {longest} tokens are cut."
    return seq, why


def train_examples(preset: Preset, data: Any) -> int | None:
    """Training examples after the validation split (as data/split.py sizes it)."""
    if data is None or not getattr(data, "n_examples", 0):
        return None
    # Text is cut into seq_len windows, so at this seq_len there are at least total_tokens / seq_len of them
    # (the stats may have counted longer windows); chat rows are one example each.
    n = max(int(data.n_examples), math.ceil(int(getattr(data, "total_tokens", 0) or 0) / preset.seq_len))
    n_val = min(preset.val_max, round(n * preset.val_fraction)) if n >= 10 else 0
    return max(1, n - n_val)


def fit_to_memory(
    preset: Preset, info: ModelInfo, device: str, available: float, pinned: dict[str, Any]
) -> tuple[Preset, MemoryEstimate]:
    """Largest batch (down to a floor) that fits comfortably; then checkpointing; then shorter sequences."""

    def est(p: Preset) -> MemoryEstimate:
        return estimate_memory(info, p, device, available)

    batches = (
        [preset.batch_size]
        if "batch_size" in pinned
        else [b for b in (64, 32, 16, 8, 4, 2, 1) if b <= preset.batch_size]
    )
    ckpt_options = [preset.gradient_checkpointing] if "gradient_checkpointing" in pinned else [False, True]
    floor = MIN_BATCH_BEFORE_CHECKPOINTING[device]
    for ckpt in ckpt_options:
        for b in batches:
            if not ckpt and b < floor and len(batches) > 1 and len(ckpt_options) > 1:
                break  # below the floor, checkpointing (~30% slower) beats a starved GPU
            cand = replace(preset, batch_size=b, gradient_checkpointing=ckpt)
            if est(cand).comfortable:
                return cand, est(cand)
    smallest = replace(preset, batch_size=batches[-1], gradient_checkpointing=ckpt_options[-1])
    if "seq_len" not in pinned:  # last resort: shorter sequences at the smallest batch
        seq = preset.seq_len
        while seq > 256:
            seq = max(256, seq // 2)
            cand = replace(smallest, seq_len=seq)
            if est(cand).comfortable:
                return cand, est(cand)
    return smallest, est(smallest)


METHOD_NAMES = {
    "lora": "LoRA",
    "qlora": "QLoRA",
    "dora": "DoRA",
    "full": "Full fine-tuning",
    "ia3": "IA3",
    "prefix": "Prefix tuning",
}
DEVICE_NAMES = {"cpu": "the CPU", "cuda": "the GPU", "mps": "the Apple GPU"}


def describe(preset: Preset, device: str) -> str:
    """'LoRA in fp32 on the CPU', 'QLoRA (4-bit) in bf16 on the GPU'."""
    method = METHOD_NAMES.get(preset.method, preset.method) + (" (4-bit)" if preset.method == "qlora" else "")
    return f"{method} in {preset.precision} on {DEVICE_NAMES.get(device, device)}"


def sixteen_bit_check(
    info: ModelInfo, data: Any, device: str, available: float, precision: str
) -> MemoryEstimate:
    """The 16-bit model plus LoRA training state at batch 1 and the data's length, without checkpointing."""
    seq, _ = choose_seq_len(info, data, 512)
    probe = Preset(method="lora", precision=precision, batch_size=1, seq_len=seq)
    return estimate_memory(info, probe, device, available)


def choose_method(
    hw: HardwareInfo, info: ModelInfo, data: Any, device: str, available: float, precision: str
) -> tuple[str, str]:
    if device != "cuda":
        return "lora", (
            f"LoRA: trains small add-on matrices instead of all {info.params / 1e6:.0f}M weights, "
            f"which is what fits and finishes on {DEVICE_NAMES[device]}."
        )
    check = sixteen_bit_check(info, data, device, available, precision)
    if check.comfortable:
        return "lora", (
            f"LoRA in 16 bits: the model and its training state need about {gb(check.total_mb)} of the GPU's "
            f"{gb(available)}, so the faster, exact 16-bit model is used rather than QLoRA's 4-bit copy."
        )
    if hw.bnb_4bit:
        return "qlora", (
            f"QLoRA: in 16 bits the model and its training state need about {gb(check.total_mb)}, more than "
            f"fits comfortably in the GPU's {gb(available)}; a 4-bit (NF4) copy of the model fits."
        )
    return "lora", (
        f"LoRA in 16 bits, though the model and its training state need about {gb(check.total_mb)} and the "
        f"GPU has {gb(available)}: QLoRA would fit, but bitsandbytes' 4-bit kernels do not work here."
    )


def unavailable_reason(
    method: str, hw: HardwareInfo, info: ModelInfo, device: str, available: float, precision: str
) -> str | None:
    if method == "qlora":
        if device != "cuda":
            has = "an Apple GPU" if device == "mps" else "no NVIDIA GPU"
            return f"QLoRA needs an NVIDIA GPU (CUDA) for bitsandbytes' 4-bit kernels, and this machine has {has}."
        if not hw.bnb_4bit:
            why = hw.bnb_error or "bitsandbytes is not installed"
            return f"QLoRA needs bitsandbytes' 4-bit kernels, which do not work here ({why})."
    if method == "full":
        seq = min(256, info.max_positions or 256)
        least = Preset(
            method="full", precision=precision, batch_size=1, seq_len=seq, gradient_checkpointing=True
        )
        est = estimate_memory(info, least, device, available)
        if not est.fits:
            return (
                f"Full fine-tuning of this {info.params / 1e9:.2f}B-parameter model needs at least "
                f"{gb(est.total_mb)} (gradients and optimizer state for every weight), and "
                f"{gb(available)} is free on {DEVICE_NAMES[device]}."
            )
    return None


def selection_warnings(
    hw: HardwareInfo, info: ModelInfo, preset: Preset, device: str, est: MemoryEstimate
) -> list[str]:
    out = []
    if not est.fits:
        out.append(f"Memory: {est.verdict}.")
    elif not est.comfortable:
        out.append(f"Memory is tight: {est.verdict}.")
    if device == "cuda" and not est.comfortable and preset.method != "qlora" and not hw.bnb_4bit:
        out.append(
            "Installing bitsandbytes (pip install 'tunedesk[cuda]') would allow QLoRA, which needs far less."
        )
    if device == "cuda" and hw.cuda and hw.cuda[0].free_mb < hw.cuda[0].total_mb * 0.8:
        used = hw.cuda[0].total_mb - hw.cuda[0].free_mb
        out.append(
            f"Other programs were using {gb(used)} of the GPU when it was checked; close them before training."
        )
    if device == "cuda" and preset.precision == "bf16" and hw.cuda and not hw.cuda[0].bf16:
        out.append("This GPU has no fast bf16; fp16 would be quicker (--set precision=fp16).")
    if device == "cpu" and info.params > SLOW_ON_CPU_PARAMS:
        out.append(
            f"Training a {info.params / 1e9:.1f}B-parameter model on the CPU takes days; a model under 1B "
            "(such as the starter) trains in minutes to hours."
        )
    if info.exportable is False:
        out.append(info.export_note)
    if not info.has_chat_template:
        out.append("The model has no chat template: chat data will use TuneDesk's plain fallback template.")
    need_disk_mb = info.params * 2 * 2 / 2**20  # merged 16-bit copy + GGUF at export time
    if hw.disk_free_mb and hw.disk_free_mb < need_disk_mb:
        out.append(
            f"Only {gb(hw.disk_free_mb)} free disk at {hw.disk_path}; exporting this model needs about "
            f"{gb(need_disk_mb)}."
        )
    return out


# The share of general rows (the base model's own answers, core/training/rehearsal.py) in a chat model's
# training mix. The sweep on the sample data (bench/forgetting_fraction.py, starter model, 30 steps; figures in
# bench/RESULTS.md): with none the general loss rose 0.167 nats (the verdict's "slightly lower", over its 5%);
# 10% held it to +0.029 ("unchanged"), 20% to -0.022, 35% to -0.075, while the task's best validation loss
# went 1.33, 1.38, 1.43, 1.56. 10% is the smallest share that passes at 30 steps; 20% is shipped for the
# margin a default-length run (about 100 steps on these 240 rows, so more drift) needs, at 8% of task loss.
# A model without a chat template gets 0: its "answers" are plain continuations, and its users usually
# continue pre-training on text.
CHAT_GENERAL_FRACTION = 0.2


def choose_general_fraction(info: ModelInfo, objective: str = "sft") -> tuple[float, str]:
    if objective != "sft":
        return 0.0, (
            "No general data mixed in: preference tuning (DPO) already holds the model near where it started "
            "(beta), and its pairs are not answers to train on."
        )
    if not info.has_chat_template:
        return 0.0, "No general data mixed in: the model has no chat template (a base model)."
    return CHAT_GENERAL_FRACTION, (
        f"{CHAT_GENERAL_FRACTION:.0%} of the training mix is the model's own answers to general prompts, so it "
        "keeps its everyday skills (the forgetting measure after the run shows whether that was enough)."
    )
