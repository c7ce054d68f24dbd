"""Training presets: data, not code.

A `Preset` holds every knob of a training run. Shipped presets live in ``resources/presets/*.toml``;
`select_preset` (in presets/select.py) sizes one to the model, the data and the machine; the caller can
override any field (``--set lora_r=32``). Each field's ``help`` is the one plain line the GUI shows beside it.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.settings_file import read_settings_file

METHODS = ("lora", "qlora", "dora", "full", "ia3", "prefix")
SCHEDULES = ("wsd", "cosine", "linear", "constant")
PRECISIONS = ("fp32", "bf16", "fp16")
SHARDINGS = ("none", "fsdp")
OBJECTIVES = ("sft", "dpo")
DPO_METHODS = (
    "lora",
    "qlora",
    "dora",
    "ia3",
)  # the reference model is the base with the adapter switched off


def _f(default: Any, help: str, **kw: Any) -> Any:
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class Preset:
    name: str = _f("custom", "Which preset these values started from.")
    method: str = _f(
        "lora",
        "LoRA trains small add-on layers, not the whole model; QLoRA does it on a 4-bit copy to save GPU memory.",
        choices=METHODS,
    )
    lora_r: int = _f(
        16, "Rank: how much the adapter can learn. 8-16 suits style and format; 32-64 for new knowledge."
    )
    lora_alpha: int = _f(32, "Alpha scales the adapter's effect; about twice the rank is the usual choice.")
    lora_dropout: float = _f(
        0.05, "Randomly drops part of the adapter while training so it does not memorise."
    )
    target_modules: str = _f(
        "all-linear",
        "Which layers get an adapter: 'all-linear' learns most; 'attention' (q,k,v,o) is lighter.",
    )
    learning_rate: float = _f(
        2e-4,
        "How big each update is. Small values (LoRA ~2e-4, full ~1e-5) keep what the model already knows.",
    )
    lr_schedule: str = _f(
        "wsd",
        "Warm up gently, hold, then decay ('wsd'), or follow a cosine curve: big jumps early or late hurt.",
        choices=SCHEDULES,
    )
    warmup_ratio: float = _f(0.1, "Share of steps spent warming the learning rate up from zero.")
    decay_ratio: float = _f(0.1, "Share of final steps spent lowering the learning rate (for 'wsd').")
    epochs: float = _f(3.0, "How many times to read the whole dataset. More than 3-5 tends to memorise.")
    max_steps: int = _f(0, "Stop after this many steps (0: decided by the epochs).")
    seq_len: int = _f(512, "Longest example in tokens; longer ones are cut. Chosen from your data's lengths.")
    batch_size: int = _f(4, "Examples per step on the device. Larger is faster but needs more memory.")
    grad_accum: int = _f(
        2, "Steps to add up before each update: a bigger effective batch without more memory."
    )
    precision: str = _f(
        "fp32",
        "Number format for training. bf16/fp16 halve memory on GPUs; fp32 is fastest on most CPUs.",
        choices=PRECISIONS,
    )
    gradient_checkpointing: bool = _f(
        False, "Recompute instead of storing activations: less memory, ~30% slower."
    )
    sharding: str = _f(
        "none",
        "With several processes: 'fsdp' splits weights, gradients and optimizer over them (LoRA/DoRA), for "
        "a model too big for one GPU; 'none' copies it to each.",
        choices=SHARDINGS,
    )
    weight_decay: float = _f(0.0, "Pulls weights gently towards zero; rarely needed for LoRA.")
    max_grad_norm: float = _f(1.0, "Caps the size of one update so a bad batch cannot wreck the model.")
    val_fraction: float = _f(
        0.1, "Share of examples held back to check the model on data it never trained on."
    )
    val_max: int = _f(200, "At most this many validation examples, so checking stays quick.")
    eval_every: int = _f(0, "Check validation loss every N steps (0: about ten times per run).")
    early_stopping_patience: int = _f(
        3, "Stop when validation loss has not improved this many checks in a row: prevents forgetting."
    )
    # --- plateau stop (issue 9; core/training/plateau.py) ---
    min_improvement: float = _f(
        0.01,
        "Stop when the best validation loss of the last 'patience' checks beats the one before by less than "
        "this share (0.01: 1%): learning has stopped.",
    )
    save_every: int = _f(0, "Save a checkpoint every N steps (0: at each validation check).")
    keep_checkpoints: int = _f(2, "How many recent checkpoints to keep; the best one is always kept.")
    packing: bool = _f(
        False, "Join short examples into one sequence for speed (attention stays per example)."
    )
    general_data_fraction: float = _f(
        0.0,
        "Share of the training mix that is the base model's own answers to general prompts, so it keeps its "
        "everyday skills (0: none; chosen 0.2 for chat models).",
    )
    sample_prompts: int = _f(
        3, "How many held-out prompts to answer at each check, so you can watch it learn."
    )
    sample_max_tokens: int = _f(64, "Length limit of those sample answers.")
    seed: int = _f(42, "Fixes the shuffling and initialisation so a run can be repeated exactly.")
    objective: str = _f(
        "sft",
        "'sft' learns to write the answers in your data; 'dpo' learns which of two answers (chosen, rejected) "
        "to prefer.",
        choices=OBJECTIVES,
    )
    beta: float = _f(
        0.1, "DPO only: how far the model may drift from where it started; larger keeps it closer."
    )
    init_adapter: str = _f(
        "", "Continue from an earlier run's adapter (its folder) instead of a new one: e.g. SFT, then DPO."
    )
    prevent_sleep: bool = _f(True, "Keep the computer from going to sleep while this run trains.")
    pause_on_battery_below: int = _f(
        20, "On battery below this percentage, save a checkpoint and pause until plugged in (0: never)."
    )

    # ---- conversion helpers -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "preset") -> Preset:
        preset = cls()
        return apply_overrides(preset, data, source=source)

    @classmethod
    def field_help(cls) -> dict[str, str]:
        return {f.name: f.metadata.get("help", "") for f in fields(cls)}

    def validate(self) -> None:
        checks = [
            (self.method in METHODS, "method", f"must be one of {', '.join(METHODS)}"),
            (self.lr_schedule in SCHEDULES, "lr_schedule", f"must be one of {', '.join(SCHEDULES)}"),
            (self.precision in PRECISIONS, "precision", f"must be one of {', '.join(PRECISIONS)}"),
            (self.sharding in SHARDINGS, "sharding", f"must be one of {', '.join(SHARDINGS)}"),
            (
                not (self.sharding == "fsdp" and self.method == "qlora"),
                "sharding",
                "cannot be used with QLoRA, which trains on one device (use method=lora with fsdp, or "
                "sharding=none)",
            ),
            (self.lora_r > 0, "lora_r", "must be a positive whole number"),
            (self.lora_alpha > 0, "lora_alpha", "must be positive"),
            (0 <= self.lora_dropout < 1, "lora_dropout", "must be between 0 and 1"),
            (0 < self.learning_rate < 1, "learning_rate", "must be between 0 and 1 (e.g. 2e-4)"),
            (0 <= self.warmup_ratio < 1, "warmup_ratio", "must be between 0 and 1"),
            (0 <= self.decay_ratio < 1, "decay_ratio", "must be between 0 and 1"),
            (
                self.warmup_ratio + self.decay_ratio <= 1,
                "decay_ratio",
                "warm-up plus decay must not exceed 1",
            ),
            (self.epochs > 0 or self.max_steps > 0, "epochs", "set epochs or max_steps above 0"),
            (self.max_steps >= 0, "max_steps", "must not be negative"),
            (self.seq_len >= 16, "seq_len", "must be at least 16 tokens"),
            (self.batch_size >= 1, "batch_size", "must be at least 1"),
            (self.grad_accum >= 1, "grad_accum", "must be at least 1"),
            (0 <= self.val_fraction < 0.9, "val_fraction", "must be between 0 and 0.9"),
            (self.keep_checkpoints >= 1, "keep_checkpoints", "must be at least 1"),
            (0 <= self.min_improvement < 1, "min_improvement", "must be between 0 and 1 (e.g. 0.01)"),
            (0 <= self.general_data_fraction < 1, "general_data_fraction", "must be between 0 and 1"),
            (self.objective in OBJECTIVES, "objective", f"must be one of {', '.join(OBJECTIVES)}"),
            (self.beta > 0, "beta", "must be positive (0.1 is the usual choice)"),
            (
                self.objective != "dpo" or self.method in DPO_METHODS,
                "method",
                f"cannot train DPO: DPO needs an adapter ({', '.join(DPO_METHODS)})",
            ),
            (
                not self.init_adapter or self.method not in ("full", "prefix"),
                "init_adapter",
                "needs a LoRA, DoRA or IA3 run to continue",
            ),
            (0 <= self.pause_on_battery_below <= 100, "pause_on_battery_below", "must be 0 to 100 (percent)"),
        ]
        for ok, name, why in checks:
            if not ok:
                raise TuneDeskError(
                    f"Setting '{name}' = {getattr(self, name)!r} {why}.",
                    hint=f"Change {name} (e.g. --set {name}=...) and try again.",
                    kind="bad_setting",
                    where={"field": name},
                )


_BOOL_WORDS = {
    "true": True,
    "1": True,
    "yes": True,
    "on": True,
    "false": False,
    "0": False,
    "no": False,
    "off": False,
}


def _coerce(name: str, value: Any, kind: type, source: str) -> Any:
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            return _BOOL_WORDS[str(value).strip().lower()]
        if kind is int:
            number = float(value) if isinstance(value, str) else value
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            return int(number)
        if kind is float:
            return float(value)
        return str(value)
    except (KeyError, ValueError, TypeError):
        raise TuneDeskError(
            f"Setting '{name}' = {value!r} is not a valid {kind.__name__}.",
            hint=f"Give {name} a {kind.__name__} value, e.g. {name}={getattr(Preset(), name)!r}.",
            kind="bad_setting",
            where={"source": source, "field": name},
        ) from None


def apply_overrides(preset: Preset, overrides: dict[str, Any], *, source: str = "--set") -> Preset:
    """A copy of `preset` with `overrides` applied; values given as text are converted to the field's type."""
    types = {f.name: f.type for f in fields(Preset)}
    known = set(types)
    updates: dict[str, Any] = {}
    for name, value in overrides.items():
        if name not in known:
            close = difflib.get_close_matches(name.replace("-", "_"), sorted(known), n=3)
            raise TuneDeskError(
                f"Unknown setting '{name}'.",
                hint=("Did you mean " + ", ".join(sorted(close)) + "? ")
                if close
                else "Run `tunedesk doctor --json` to see every preset field.",
                kind="bad_setting",
                where={"source": source, "field": name},
            )
        kind = {"str": str, "int": int, "float": float, "bool": bool}[str(types[name])]
        updates[name] = _coerce(name, value, kind, source)
    new = dataclasses.replace(preset, **updates)
    try:
        new.validate()
    except TuneDeskError as err:
        err.where.setdefault("source", source)  # which file or flag set it
        raise
    return new


def parse_set_args(items: list[str]) -> dict[str, str]:
    """`["lora_r=32", "learning_rate=1e-4"]` -> dict; a malformed item raises a TuneDeskError."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise TuneDeskError(
                f"'--set {item}' is not of the form key=value.",
                hint="Write it like --set lora_r=32.",
                kind="bad_setting",
            )
        out[key.strip()] = value.strip()
    return out


def load_preset_file(path: str | Path) -> Preset:
    path = Path(path)
    missing = (f"Preset file {path} does not exist.", "Check the path.")
    data = read_settings_file(
        path, "TOML", "bad_setting", missing, "Fix the file, or start from one in resources/presets/."
    )
    data.pop("description", None)
    return Preset.from_dict(data, source=str(path))


def shipped_presets_dir() -> Path:
    from tunedesk.core.paths import resources_dir

    return resources_dir() / "presets"
