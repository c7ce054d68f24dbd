"""Loading the base model and wrapping it for a training method.

- lora / dora: peft LoraConfig (``use_dora`` for DoRA) on "all-linear" layers or the attention projections.
- qlora: the base weights quantized to 4-bit NF4 by bitsandbytes (CUDA only), then LoRA on top.
- full: every weight trains (small models only: weights + gradients + AdamW state are 4x the model in fp32).
- ia3: learned rescaling vectors (peft's per-architecture defaults).
- prefix: learned virtual key/value tokens in every layer (prefix tuning).
- with ``init_adapter``: the earlier run's adapter, trainable, instead of a new one (init_adapter.py).

Precision: on CUDA a frozen base is loaded in the preset's 16-bit type and the adapter trains in fp32 under
autocast; a full fine-tune keeps fp32 weights and autocasts. On a CPU the same holds where the hardware probe
measured bf16 faster than fp32 (the preset says bf16); elsewhere everything is fp32 (FINDINGS: bf16 at a third
of fp32's speed on CPUs without bf16 units).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.preset import Preset
from tunedesk.core.training.init_adapter import load_init_adapter

log = logging.getLogger("tunedesk.training")

# Leaf-module names of attention projections across the common architectures.
ATTENTION_MODULES = (
    "q_proj", "k_proj", "v_proj", "o_proj",  # llama, mistral, qwen, gemma, phi3 (qkv_proj)
    "qkv_proj", "query_key_value", "dense",  # phi3, gpt-neox, falcon
    "c_attn", "Wqkv", "out_proj",  # gpt2, mpt / phi
)  # fmt: skip
PREFIX_VIRTUAL_TOKENS = 20
CUDA_HINT = "Install the CUDA build of PyTorch and `pip install tunedesk[cuda]` (bitsandbytes) on a machine with an NVIDIA GPU."


@dataclass
class Precision:
    device: str
    load_dtype: torch.dtype  # dtype of the loaded (frozen) weights
    autocast_dtype: torch.dtype | None  # None: no autocast (fp32)
    use_grad_scaler: bool  # fp16 needs loss scaling; bf16 does not


def pick_device(requested: str) -> str:
    if requested in ("", "auto"):
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise TuneDeskError(
            "The run asks for a CUDA GPU, but PyTorch sees none here.",
            hint="Set device to auto or cpu in the run's config, or " + CUDA_HINT,
            kind="method_unavailable",
            where={"field": "device"},
        )
    if requested == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise TuneDeskError(
            "The run asks for Apple's GPU (mps), which is not available here.",
            hint="Set device to auto or cpu in the run's config.",
            kind="method_unavailable",
            where={"field": "device"},
        )
    if requested not in ("cpu", "cuda", "mps"):
        raise TuneDeskError(
            f"Unknown device {requested!r}.",
            hint="Use auto, cpu, cuda or mps.",
            kind="bad_config",
            where={"field": "device"},
        )
    return requested


def pick_precision(preset: Preset, device: str) -> Precision:
    if preset.precision == "fp32":
        return Precision(device, torch.float32, None, False)
    if device != "cuda":
        # CPUs with AMX (and Apple GPUs with bf16) run bf16 matmuls several times faster than fp32; others are
        # 3x slower. The selector measured which (hardware probe), so honour its choice: fp32 master weights,
        # bf16 compute under autocast. fp16 without a GPU's loss scaling is too fragile to train in.
        # The frozen base of an adapter method needs no fp32 copy: it is kept in bf16 (half the memory, no cast
        # per matmul) and the adapter and its optimizer state stay fp32 (peft upcasts them).
        if preset.precision == "bf16":
            load = torch.float32 if preset.method == "full" else torch.bfloat16
            return Precision(device, load, torch.bfloat16, False)
        log.info("precision %s is not used on %s: training in fp32", preset.precision, device)
        return Precision(device, torch.float32, None, False)
    if preset.precision == "bf16" and not torch.cuda.is_bf16_supported():
        log.info("this GPU has no bf16: using fp16 with loss scaling")
        half = torch.float16
    else:
        half = torch.bfloat16 if preset.precision == "bf16" else torch.float16
    load = torch.float32 if preset.method == "full" else half
    return Precision(device, load, half, half == torch.float16)


def check_method_runs_here(preset: Preset, device: str, hint: Callable[[], str]) -> None:
    """Fail early, with a way forward, for a method this machine cannot run."""
    if preset.method != "qlora":
        return
    if device != "cuda":
        raise TuneDeskError(
            f"QLoRA needs an NVIDIA GPU (CUDA); this run would train on {device}.",
            hint=hint(),
            kind="method_unavailable",
            where={"field": "method"},
        )
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise TuneDeskError(
            "QLoRA needs the bitsandbytes package, which is not installed.",
            hint=f"{CUDA_HINT} Or use --set method=lora.",
            kind="method_unavailable",
            where={"field": "method"},
        ) from None


def load_padded_tokenizer(folder: Path) -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))
    if tok.pad_token_id is None:
        # Pad positions never reach the loss (labels -100, attention mask 0): any id works, eos is customary.
        tok.pad_token = tok.eos_token
    return tok


def load_model(
    folder: Path,
    preset: Preset,
    precision: Precision,
    *,
    allow_pickle: bool = False,
    trust_remote_code: bool = False,
    device: str | None = None,
) -> Any:
    """The base model on its device, wrapped for `preset.method` (a PeftModel, or the model itself for full).

    `device` overrides precision.device for where the weights are put (sharding=fsdp loads on the CPU).
    safetensors only and no remote code, unless the run's config records the user's explicit consent.
    """
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {
        "dtype": precision.load_dtype,
        "use_safetensors": not allow_pickle,
        "trust_remote_code": trust_remote_code,
    }
    if preset.method == "qlora":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=precision.autocast_dtype or torch.bfloat16,
        )
        kwargs["device_map"] = {"": torch.cuda.current_device()}
    model = AutoModelForCausalLM.from_pretrained(str(folder), **kwargs)
    if preset.method != "qlora":
        model.to(device or precision.device)
    model.config.use_cache = False  # no KV cache while training (generation turns it on per call)

    if preset.method == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=preset.gradient_checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False},
        )
    elif preset.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})

    if preset.method == "full":
        model.requires_grad_(True)
        return model
    if preset.init_adapter:
        return load_init_adapter(model, preset.init_adapter)
    from peft import get_peft_model

    try:
        return get_peft_model(model, peft_config(preset, model))
    except ValueError as exc:
        raise TuneDeskError(
            f"{preset.method} cannot be applied to this model ({type(model).__name__}): {exc}",
            hint="Try --set method=lora (with target_modules=all-linear), which works on every architecture.",
            kind="method_unavailable",
            where={"field": "method"},
        ) from None


def peft_config(preset: Preset, model: Any) -> Any:
    from peft import IA3Config, LoraConfig, PrefixTuningConfig

    if preset.method in ("lora", "qlora", "dora"):
        return LoraConfig(
            r=preset.lora_r,
            lora_alpha=preset.lora_alpha,
            lora_dropout=preset.lora_dropout,
            target_modules=lora_targets(preset.target_modules, model),
            use_dora=preset.method == "dora",
            bias="none",
            task_type="CAUSAL_LM",
        )
    if preset.method == "ia3":
        return IA3Config(task_type="CAUSAL_LM")
    if preset.method == "prefix":
        return PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=PREFIX_VIRTUAL_TOKENS)
    raise TuneDeskError(f"Unknown method {preset.method!r}.", kind="bad_setting", where={"field": "method"})


def lora_targets(setting: str, model: Any) -> str | list[str]:
    """ "all-linear" (peft's keyword), "attention" (the attention projections this model has), or a list."""
    setting = setting.strip()
    if setting == "all-linear":
        return setting
    leaf_names = {
        name.rsplit(".", 1)[-1] for name, mod in model.named_modules() if isinstance(mod, torch.nn.Linear)
    }
    if setting == "attention":
        wanted = [n for n in ATTENTION_MODULES if n in leaf_names]
        # "dense" also names MLP layers in some models: only take it when nothing more specific exists.
        specific = [n for n in wanted if n != "dense"]
        targets = specific or wanted
    else:
        targets = [n.strip() for n in setting.split(",") if n.strip()]
        unknown = [n for n in targets if n not in leaf_names]
        if unknown:
            raise TuneDeskError(
                f"target_modules names layers this model does not have: {', '.join(unknown)}.",
                hint="Use 'all-linear' or 'attention', or names from: " + ", ".join(sorted(leaf_names)[:20]),
                kind="bad_setting",
                where={"field": "target_modules"},
            )
    if not targets:
        raise TuneDeskError(
            "Could not find the attention layers of this model for target_modules=attention.",
            hint="Use --set target_modules=all-linear.",
            kind="bad_setting",
            where={"field": "target_modules"},
        )
    return targets


def count_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total); peft counts 4-bit weights at their real size."""
    if hasattr(model, "get_nb_trainable_parameters"):
        trainable, total = model.get_nb_trainable_parameters()
        return int(trainable), int(total)
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)
