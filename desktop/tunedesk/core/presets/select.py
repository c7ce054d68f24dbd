"""Choose and size a training preset for this machine, this model and this data, and say why.

`select_preset` starts from a shipped preset (``resources/presets/*.toml``) and decides, in this order:
objective (DPO, from the ``dpo`` preset, for preference pairs; SFT for any other data), method (LoRA, or
QLoRA when the 16-bit model does not fit comfortably on a CUDA GPU), precision (by the device, and on the CPU
by the probe's measured fp32/bf16 speed), seq_len (from the data's token lengths), batch size / gradient
accumulation / checkpointing (from the memory estimate), and epochs (from the data size), and the share of
general data mixed in (chat models: rules.CHAT_GENERAL_FRACTION). Each decision leaves one plain sentence in
`reasons`. The user's own settings win over all of it: ``--set`` overrides, and every field written in a
preset file given by path.

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
from tunedesk.core.hardware.info import HardwareInfo
from tunedesk.core.models.info import ModelInfo
from tunedesk.core.presets.memory import MemoryEstimate, estimate_memory
from tunedesk.core.presets.preset import (
    DPO_METHODS,
    METHODS,
    Preset,
    apply_overrides,
    load_preset_file,
    shipped_presets_dir,
)
from tunedesk.core.presets.rules import (
    EXAMPLES_SEEN_TARGET,
    MAX_AUTO_STEPS,
    MAX_EPOCHS,
    METHOD_NAMES,
    MIN_STEPS_PER_EPOCH,
    SIZED_FIELDS,
    TARGET_EFFECTIVE_BATCH,
    choose_general_fraction,
    choose_method,
    choose_precision,
    choose_seq_len,
    describe,
    fit_to_memory,
    selection_warnings,
    train_examples,
    unavailable_reason,
)

__all__ = [
    "MAX_AUTO_STEPS",
    "MAX_EPOCHS",
    "DataStats",
    "Selection",
    "describe",
    "nearest_workable",
    "select_preset",
    "shipped_presets",
]


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


DPO_WHY = (
    "Preference tuning (DPO): the data holds preference pairs (prompt, chosen, rejected), which teach which "
    "of two answers to prefer, not an answer to copy."
)
SFT_WHY = (
    "Supervised fine-tuning: the model learns to write like the data (a file of preference pairs would "
    "train DPO instead)."
)
DPO_FP32_WHY = (
    "Precision fp32: DPO learns from small differences between the model and where it started, which bf16 "
    "rounds away while the adapter's update is still small."
)


def choose_objective(
    data: DataStats | None, base: Preset | None, pinned: dict[str, Any], method: str | None
) -> tuple[str, str]:
    """(objective, why) from what the data holds: preference pairs train DPO, anything else SFT. A named or
    file preset, or the user's own objective, decides instead (and the data check says if they disagree)."""
    if "objective" in pinned:
        return str(pinned["objective"]), ""
    if base is not None:
        return base.objective, ""
    if data is None:
        return "sft", ""
    if not getattr(data, "preference", False):
        return "sft", SFT_WHY
    if method is None or method in DPO_METHODS:  # the automatic method is always LoRA or QLoRA
        return "dpo", DPO_WHY
    return "sft", ""  # pairs with a method DPO cannot use: the data check says so, with what to use


def dpo_precision(objective: str, device: str, precision: str, why: str) -> tuple[str, str]:
    """DPO off CUDA trains in fp32 (DPO_FP32_WHY); on CUDA it keeps the GPU's 16-bit format like SFT."""
    if objective == "dpo" and device != "cuda":
        # Seen here: the tiny test model's 6-step DPO run under bf16 autocast ended preferring no held-out
        # pair (accuracy 0.0); the same run in fp32 reached 1.0 from step 3.
        return "fp32", DPO_FP32_WHY
    return precision, why


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
    processes: int = 1,
) -> Selection:
    """Choose and size a preset; see the module docstring for the order of decisions. With `processes` > 1
    the memory estimate is one process's (each has its own GPU; with sharding=fsdp the weights are split)."""
    overrides = dict(overrides or {})
    if "method" in overrides and (requested or "auto").strip().lower() == "auto":
        requested = str(overrides["method"])  # --set method=qlora asks for that method, with its checks
    device = hw.best_device
    available = hw.device_memory_mb(device)
    method, base, pinned = _parse_request(requested)
    pinned = {**pinned, **overrides}
    # (fields a reason is about, the reason): a reason about a field the user set is replaced by theirs.
    reasons: list[tuple[tuple[str, ...], str]] = []

    objective, objective_why = choose_objective(data, base, pinned, method)
    precision, precision_why = choose_precision(hw, device, method or "lora")
    precision, precision_why = dpo_precision(objective, device, precision, precision_why)
    if method is None:
        method, method_why = choose_method(hw, info, data, device, available, precision)
    else:
        problem = unavailable_reason(method, hw, info, device, available, precision)
        if problem:
            raise _method_error(method, problem, hw, info, data)
        method_why = f"{METHOD_NAMES.get(method, method)}, as asked."
    reasons.append((("method",), method_why))
    if objective_why:
        reasons.append((("objective",), objective_why))
    if base is None and objective == "dpo" and method in DPO_METHODS:
        base = replace(_load_shipped("dpo"), method=method)  # DPO's own learning rate, beta and dropout
    base = base or replace(_load_shipped(_shipped_name(method, device)), method=method)
    preset = replace(base, precision=precision, objective=objective)  # sized below for its objective
    reasons.append((("precision",), precision_why))

    seq, seq_why = choose_seq_len(info, data, base.seq_len)
    preset = replace(preset, seq_len=seq)
    reasons.append((("seq_len",), seq_why))

    n_train = train_examples(preset, data)
    target = TARGET_EFFECTIVE_BATCH[device]
    if n_train:  # keep at least MIN_STEPS_PER_EPOCH updates per pass over a small dataset
        target = max(1, min(target, n_train // MIN_STEPS_PER_EPOCH))
    preset = replace(preset, batch_size=max(1, min(base.batch_size, target)))
    sized = {k: v for k, v in pinned.items() if k in SIZED_FIELDS}
    preset = apply_overrides(preset, sized, source="your settings")
    preset, _ = fit_to_memory(preset, info, device, available, pinned)
    if "grad_accum" not in pinned:
        preset = replace(preset, grad_accum=max(1, target // preset.batch_size))  # never above target
    eff = preset.batch_size * preset.grad_accum
    reasons.append(
        (
            ("batch_size", "grad_accum"),
            f"Batch {preset.batch_size} x {preset.grad_accum} accumulation steps = {eff} example"
            + ("s" if eff > 1 else "")
            + " per update"
            + (f" ({n_train} training examples)." if n_train else "."),
        )
    )
    reasons.append(
        (
            ("gradient_checkpointing",),
            "Gradient checkpointing on: memory is tight (about 30% slower, but without it the run does not fit)."
            if preset.gradient_checkpointing
            else "No gradient checkpointing: memory is not tight, and it would cost about 30% speed.",
        )
    )

    if n_train:
        epochs = min(MAX_EPOCHS, max(1, round(EXAMPLES_SEEN_TARGET / n_train)))
        total = math.ceil(n_train / eff) * epochs
        max_steps = MAX_AUTO_STEPS if total > MAX_AUTO_STEPS else 0
        preset = replace(preset, epochs=float(epochs), max_steps=max_steps)
        why = f"{epochs} epoch{'s' if epochs > 1 else ''} over {n_train} examples ({total} steps)"
        if epochs > 1:
            why += ": small data needs a few passes; validation stops early if it starts memorising."
        else:
            why += "."
        if max_steps:
            why += f" Capped at {max_steps} steps (change with --set max_steps=...)."
    else:
        why = f"{preset.epochs:g} epochs from the preset (no data given to size by)."
    reasons.append((("epochs", "max_steps"), why))

    if preset.method == "full":
        why = f"Learning rate {preset.learning_rate:g}: full fine-tuning changes every weight, so it steps gently."
    else:
        why = (
            f"Learning rate {preset.learning_rate:g}, rank {preset.lora_r}, alpha {preset.lora_alpha}: the usual "
            "LoRA starting point, small enough to keep what the model already knows."
        )
    reasons.append((("learning_rate", "lora_r", "lora_alpha"), why))

    fraction, fraction_why = choose_general_fraction(info, preset.objective)
    preset = replace(preset, general_data_fraction=fraction)
    reasons.append((("general_data_fraction",), fraction_why))

    texts = [text for about, text in reasons if not set(about) & set(pinned)]
    if pinned:
        preset = apply_overrides(preset, pinned, source="your settings")
        texts.append("Your settings win: " + ", ".join(f"{k}={v}" for k, v in pinned.items()) + ".")
    overridden = sorted(k for k in overrides if k in Preset.__dataclass_fields__)
    est = estimate_memory(info, preset, device, available, processes=max(1, processes))
    warnings = selection_warnings(hw, info, preset, device, est)
    return Selection(
        preset, device, texts, warnings, est, requested=requested or "auto", overridden=overridden
    )
