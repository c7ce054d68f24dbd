"""Memory readings for progress events, and the errors for running out of it or lacking the hardware."""

from __future__ import annotations

import logging
import sys

import torch

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.preset import Preset

log = logging.getLogger("tunedesk.training")


def memory_mb(device: str) -> tuple[float, float]:
    """(current, peak) memory of the training in MB: the GPU's allocations on CUDA, else the process RSS."""
    if device == "cuda":
        return (
            round(torch.cuda.memory_allocated() / 2**20, 1),
            round(torch.cuda.max_memory_allocated() / 2**20, 1),
        )
    import psutil

    rss = psutil.Process().memory_info().rss / 2**20
    peak = rss
    try:
        import resource

        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = maxrss / 2**20 if sys.platform == "darwin" else maxrss / 2**10  # bytes on macOS, KB on Linux
    except (ImportError, OSError):
        pass
    return round(rss, 1), round(max(peak, rss), 1)


def smaller_settings(preset: Preset, device: str) -> list[str]:
    """--set arguments that need less memory with the same effective batch, most effective first."""
    out = []
    if preset.batch_size > 1:
        half = max(1, preset.batch_size // 2)
        out.append(
            f"--set batch_size={half} --set grad_accum={preset.grad_accum * preset.batch_size // half}"
        )
    if preset.seq_len > 256:
        out.append(f"--set seq_len={max(256, preset.seq_len // 2)}")
    if not preset.gradient_checkpointing:
        out.append("--set gradient_checkpointing=true")
    if device == "cuda" and preset.method in ("lora", "dora", "full"):
        out.append("--set method=qlora")
    if preset.method == "full":
        out.append("--set method=lora")
    return out


def oom_error(preset: Preset, device: str, exc: BaseException) -> TuneDeskError:
    if device == "cuda":
        torch.cuda.empty_cache()
    options = smaller_settings(preset, device)
    where = "GPU" if device == "cuda" else "computer"
    return TuneDeskError(
        f"The {where} ran out of memory while training (batch_size {preset.batch_size}, seq_len {preset.seq_len}, "
        f"{preset.method}): {exc}".rstrip(": "),
        hint=(
            "Start the run again with less memory per step: `tunedesk train ... "
            + options[0]
            + "`"
            + (" (or also " + "; ".join(options[1:]) + ")" if len(options) > 1 else "")
            + ". Close other programs using the memory."
            if options
            else "Pick a smaller model, or close other programs using the memory."
        ),
        kind="out_of_memory",
        where={"field": "batch_size"},
    )


def unavailable_hint(preset: Preset, model_ref: str) -> str:
    """What to do instead of a method this machine cannot run: the preset selector's nearest workable preset
    when it can tell, else plain LoRA (which runs everywhere)."""
    fallback = "Use --set method=lora: it trains the same kind of adapter without 4-bit quantization and runs on CPUs and every GPU."
    try:
        from tunedesk.core.hardware.probe import probe_hardware
        from tunedesk.core.models.info import model_info
        from tunedesk.core.models.source import resolve_model
        from tunedesk.core.presets.select import nearest_workable

        name, why = nearest_workable(
            probe_hardware(), model_info(resolve_model(model_ref)), None, preset.method
        )
    except Exception:  # the hint must never hide the error it explains
        log.debug("no nearest workable preset", exc_info=True)
        return fallback
    return f"Use the '{name}' preset instead (--preset {name}): {why}"
