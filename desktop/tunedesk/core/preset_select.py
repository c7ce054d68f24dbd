"""Choose and size a training preset for this machine, this model and this data, and say why.

`select_preset` starts from a shipped preset (``resources/presets/*.toml``) and decides, in this order:
method (LoRA, or QLoRA when the 16-bit model does not fit comfortably on a CUDA GPU), precision (by the
device, and on the CPU by the probe's measured fp32/bf16 speed), seq_len (from the data's token lengths),
batch size / gradient accumulation / checkpointing (from the memory estimate), and epochs (from the data
size). Each decision leaves one plain sentence in `reasons`. The user's own settings win over all of it:
``--set`` overrides, and every field written in a preset file given by path.

A method that cannot run here (QLoRA without CUDA or bitsandbytes, full fine-tuning that does not fit)
raises a TuneDeskError of kind ``method_unavailable`` whose hint names the nearest workable preset.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tunedesk.core.data.encode import DataStats
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.hardware import HardwareInfo
from tunedesk.core.memory import MemoryEstimate, estimate_memory
from tunedesk.core.model_info import ModelInfo
from tunedesk.core.presets import METHODS, Preset, apply_overrides, load_preset_file, shipped_presets_dir

__all__ = ["DataStats", "Selection", "nearest_workable", "select_preset", "shipped_presets"]

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


@dataclass
class Selection:
    preset: Preset
    device: str
    reasons: list[str]
    warnings: list[str]
    estimate: MemoryEstimate
    requested: str = "auto"
    overridden: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "preset": self.preset.to_dict(),
            "device": self.device,
            "reasons": list(self.reasons),
            "warnings": list(self.warnings),
            "overridden": list(self.overridden),
            "estimate": self.estimate.to_dict(),
        }


def shipped_presets() -> dict[str, Path]:
    """Preset name -> file, for the presets shipped in resources/presets."""
    return {p.stem: p for p in sorted(shipped_presets_dir().glob("*.toml"))}


def preset_description(path: Path) -> str:
    try:
        return str(tomllib.loads(path.read_text(encoding="utf-8")).get("description", ""))
    except (OSError, tomllib.TOMLDecodeError):
        return ""


def _shipped_name(method: str, device: str) -> str:
    if method == "qlora":
        return "qlora-gpu"
    if method == "full":
        return "full-small"
    if method == "dora":
        return "dora"
    return "lora-cpu" if device == "cpu" else "lora-gpu"


def _load_shipped(name: str) -> Preset:
    presets = shipped_presets()
    if name in presets:
        return replace(load_preset_file(presets[name]), name=name)
    return Preset(name=name)  # resources missing (a broken install): the dataclass defaults still work


def _parse_request(requested: str) -> tuple[str | None, Preset | None, dict[str, Any]]:
    """(method, base preset, fields the user pinned) for "auto", a method, a shipped name or a .toml path."""
    req = (requested or "auto").strip()
    if req.lower() == "auto":
        return None, None, {}
    if req.lower() in METHODS:
        return req.lower(), None, {}
    if req in shipped_presets():
        base = _load_shipped(req)
        return base.method, base, {}
    path = Path(req).expanduser()
    if path.suffix.lower() == ".toml" or path.is_file():
        base = replace(load_preset_file(path), name=path.stem)
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        pinned = {k: v for k, v in data.items() if k not in ("description", "name")}
        return base.method, base, pinned
    raise TuneDeskError(
        f"Unknown preset '{requested}'.",
        hint=f"Use auto, a method ({', '.join(METHODS)}), a shipped preset "
        f"({', '.join(shipped_presets()) or 'none installed'}) or the path of a .toml preset file.",
        kind="bad_setting",
        where={"preset": requested},
    )


def _gb(mb: float) -> str:
    return f"{mb / 1024:.1f} GB"


def _precision(hw: HardwareInfo, device: str, method: str) -> tuple[str, str]:
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
        return "bf16", f"Precision bf16: on this CPU it measured {b16:.0f} GFLOP/s against {f32:.0f} for fp32."
    if f32 and b16:
        return "fp32", f"Precision fp32: on this CPU it measured {f32:.0f} GFLOP/s against {b16:.0f} for bf16."
    return "fp32", "Precision fp32, the fast path on most CPUs (the bf16 speed was not measured)."


def _seq_len(info: ModelInfo, data: Any, default: int) -> tuple[int, str]:
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


def _n_train(preset: Preset, data: Any) -> int | None:
    """Training examples after the validation split (as data/split.py sizes it)."""
    if data is None or not getattr(data, "n_examples", 0):
        return None
    n = int(data.n_examples)
    n_val = min(preset.val_max, round(n * preset.val_fraction)) if n >= 10 else 0
    return max(1, n - n_val)


def _fit(
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


def _sixteen_bit_check(info: ModelInfo, device: str, available: float, precision: str) -> MemoryEstimate:
    """The 16-bit model plus LoRA training state at the smallest workable batch, without checkpointing."""
    probe = Preset(
        method="lora", precision=precision, batch_size=1, seq_len=min(512, info.max_positions or 512)
    )
    return estimate_memory(info, probe, device, available)


def _auto_method(
    hw: HardwareInfo, info: ModelInfo, device: str, available: float, precision: str
) -> tuple[str, str]:
    if device != "cuda":
        return "lora", (
            f"LoRA: trains small add-on matrices instead of all {info.params / 1e6:.0f}M weights, "
            f"which is what fits and finishes on {DEVICE_NAMES[device]}."
        )
    check = _sixteen_bit_check(info, device, available, precision)
    if check.comfortable:
        return "lora", (
            f"LoRA in 16 bits: the model and its training state need about {_gb(check.total_mb)} of the GPU's "
            f"{_gb(available)}, so the faster, exact 16-bit model is used rather than QLoRA's 4-bit copy."
        )
    if hw.bnb_4bit:
        return "qlora", (
            f"QLoRA: in 16 bits the model and its training state need about {_gb(check.total_mb)}, more than "
            f"fits comfortably in the GPU's {_gb(available)}; a 4-bit (NF4) copy of the model fits."
        )
    return "lora", (
        f"LoRA in 16 bits, though it needs about {_gb(check.total_mb)} of the GPU's {_gb(available)}: QLoRA "
        "would fit better, but bitsandbytes' 4-bit kernels do not work here."
    )


def _unavailable_reason(
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
                f"{_gb(est.total_mb)} (gradients and optimizer state for every weight), and "
                f"{_gb(available)} is free on {DEVICE_NAMES[device]}."
            )
    return None


def nearest_workable(
    hw: HardwareInfo, info: ModelInfo, data: DataStats | None = None, method: str | None = None
) -> tuple[str, str]:
    """(shipped preset name, why) of what this machine can run instead of `method`: the automatic choice."""
    sel = select_preset(hw, info, data)
    why = f"{describe(sel.preset, sel.device)} works here ({sel.estimate.verdict})."
    if method and sel.preset.method == method:  # the automatic choice is that method: nothing nearer
        why = f"{describe(sel.preset, sel.device)} is what this machine can do ({sel.estimate.verdict})."
    return sel.preset.name, why


def _method_error(method: str, reason: str, hw: HardwareInfo, info: ModelInfo, data: Any) -> TuneDeskError:
    name, why = nearest_workable(hw, info, data, method)
    hint = f"Use the '{name}' preset (--preset {name}): {why}"
    if method == "qlora" and hw.best_device == "cuda":
        hint += " To enable QLoRA, install bitsandbytes: pip install 'tunedesk[cuda]'."
    return TuneDeskError(
        f"{METHOD_NAMES.get(method, method)} cannot run on this machine. {reason}",
        hint=hint,
        kind="method_unavailable",
        where={"method": method},
    )


def select_preset(
    hw: HardwareInfo,
    info: ModelInfo,
    data: DataStats | None = None,
    overrides: dict[str, Any] | None = None,
    requested: str = "auto",
) -> Selection:
    """Choose and size a preset; see the module docstring for the order of decisions."""
    overrides = dict(overrides or {})
    if "method" in overrides and (requested or "auto").strip().lower() == "auto":
        requested = str(overrides["method"])  # --set method=qlora asks for that method, with its checks
    device = hw.best_device
    available = hw.device_memory_mb(device)
    method, base, pinned = _parse_request(requested)
    pinned = {**pinned, **overrides}
    reasons: list[str] = []
    warnings: list[str] = []

    precision, precision_why = _precision(hw, device, method or "lora")
    if method is None:
        method, method_why = _auto_method(hw, info, device, available, precision)
    else:
        problem = _unavailable_reason(method, hw, info, device, available, precision)
        if problem:
            raise _method_error(method, problem, hw, info, data)
        method_why = f"{METHOD_NAMES.get(method, method)}, as asked."
    reasons.append(method_why)
    base = base or replace(_load_shipped(_shipped_name(method, device)), method=method)
    preset = replace(base, precision=precision)
    reasons.append(precision_why)

    seq, seq_why = _seq_len(info, data, base.seq_len)
    preset = replace(preset, seq_len=seq)
    reasons.append(seq_why)

    n_train = _n_train(preset, data)
    target = TARGET_EFFECTIVE_BATCH[device]
    if n_train:  # keep at least MIN_STEPS_PER_EPOCH updates per pass over a small dataset
        target = max(1, min(target, n_train // MIN_STEPS_PER_EPOCH))
    preset = replace(preset, batch_size=max(1, min(base.batch_size, target)))
    preset = apply_overrides(
        preset, {k: v for k, v in pinned.items() if k in SIZED_FIELDS}, source="your settings"
    )
    preset, est = _fit(preset, info, device, available, pinned)
    if "grad_accum" not in pinned:
        preset = replace(preset, grad_accum=max(1, math.ceil(target / preset.batch_size)))
    eff = preset.batch_size * preset.grad_accum
    reasons.append(
        f"Batch {preset.batch_size} x {preset.grad_accum} accumulation steps = {eff} examples per update"
        + (f" ({n_train} training examples)." if n_train else ".")
    )
    if preset.gradient_checkpointing:
        reasons.append(
            "Gradient checkpointing on: memory is tight (about 30% slower, but without it the run does not fit)."
        )
    else:
        reasons.append("No gradient checkpointing: memory is not tight, and it would cost about 30% speed.")

    if n_train and "epochs" not in pinned and "max_steps" not in pinned:
        epochs = min(MAX_EPOCHS, max(1, round(EXAMPLES_SEEN_TARGET / n_train)))
        total = math.ceil(n_train / eff) * epochs
        max_steps = MAX_AUTO_STEPS if total > MAX_AUTO_STEPS else 0
        preset = replace(preset, epochs=float(epochs), max_steps=max_steps)
        why = f"{epochs} epoch{'s' if epochs > 1 else ''} over {n_train} examples ({total} steps)"
        why += (
            ": small data needs a few passes; validation stops early if it starts memorising."
            if epochs > 1
            else "."
        )
        if max_steps:
            why += f" Capped at {max_steps} steps (change with --set max_steps=...)."
        reasons.append(why)
    elif not n_train:
        reasons.append(f"{preset.epochs:g} epochs from the preset (no data given to size by).")

    if preset.method == "full":
        reasons.append(
            f"Learning rate {preset.learning_rate:g}: full fine-tuning changes every weight, so it steps gently."
        )
    else:
        reasons.append(
            f"Learning rate {preset.learning_rate:g}, rank {preset.lora_r}, alpha {preset.lora_alpha}: the usual "
            "LoRA starting point, small enough to keep what the model already knows."
        )

    overridden = sorted(k for k in overrides if k in Preset.__dataclass_fields__)
    if pinned:
        preset = apply_overrides(preset, pinned, source="your settings")
        set_text = ", ".join(f"{k}={v}" for k, v in pinned.items())
        reasons.append(f"Your settings win: {set_text}.")
    est = estimate_memory(info, preset, device, available)
    warnings += _warnings(hw, info, preset, device, est)
    return Selection(
        preset, device, reasons, warnings, est, requested=requested or "auto", overridden=overridden
    )


def _warnings(
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
            f"Only {_gb(hw.disk_free_mb)} free disk at {hw.disk_path}; exporting this model needs about "
            f"{_gb(need_disk_mb)}."
        )
    return out
