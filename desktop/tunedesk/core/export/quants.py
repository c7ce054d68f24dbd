"""The GGUF quantization types TuneDesk offers, what each costs, and which one to recommend.

Numbers are llama.cpp's own (``llama_ftype``); they are written out here so that choosing a type or
estimating a file size never imports llama_cpp.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Quant:
    name: str
    ftype: int  # llama_cpp.LLAMA_FTYPE_MOSTLY_*
    bits_per_weight: float  # average, for size estimates
    # Verification bounds (verify.py), teacher-forced on held-out answers: mean KL(merged || GGUF) per token,
    # top-1 agreement, perplexity ratio. Measured values and the margin chosen: the table below.
    max_kl: float
    min_top1: float
    max_ppl_ratio: float
    help: str = ""  # one plain line for the person choosing


QUANTS: dict[str, Quant] = {
    "f16": Quant(
        "f16",
        1,
        16.0,
        0.01,
        0.97,
        1.02,
        "Full quality and the largest file; for converting further or when size does not matter.",
    ),
    "q8_0": Quant(
        "q8_0",
        7,
        8.5,
        0.03,
        0.93,
        1.1,
        "About half the size of f16, practically no quality loss; the safe choice for small models.",
    ),
    "q6_k": Quant(
        "q6_k", 18, 6.6, 0.08, 0.88, 1.1, "About 40% of f16; a quality loss that is hard to notice."
    ),
    "q5_k_m": Quant("q5_k_m", 17, 5.7, 0.15, 0.83, 1.2, "About a third of f16; a very small quality loss."),
    "q4_k_m": Quant(
        "q4_k_m",
        15,
        4.9,
        0.4,
        0.70,
        1.5,
        "About a quarter of the size, small quality loss; a good default for 7B models on a laptop.",
    ),
}
QUANT_NAMES = tuple(QUANTS)


@dataclass(frozen=True)
class Recommendation:
    quant: str
    reason: str
    avoid: dict[str, str] = field(default_factory=dict)  # choices that would fail here, and why

    def __str__(self) -> str:  # the export page shows str(recommend_quant(...)) as the default choice
        return self.quant


def get_quant(name: str) -> Quant:
    from tunedesk.core.errors import TuneDeskError

    key = name.strip().lower()
    if key not in QUANTS:
        raise TuneDeskError(
            f"Unknown quantization '{name}'.",
            hint=f"Choose one of {', '.join(QUANT_NAMES)} (q8_0 is the safe choice for small models).",
            kind="bad_setting",
            where={"field": "quant"},
        )
    return QUANTS[key]


def after_failed_verification(quant: str) -> str:
    """What to try when a file of this quantization failed verification; never the choice that just failed."""
    order = list(QUANT_NAMES)
    finer = order[: order.index(quant)] if quant in order else []
    if quant == "f16":
        return (
            "An unquantized file fails only when conversion went wrong: export the other checkpoint, or report the "
            "problem with the verification report attached."
        )
    nearest = "q8_0" if "q8_0" in finer else finer[-1]
    return f"Try {nearest} (less compression), or export the other checkpoint."


def gguf_bytes(params: int, quant: str) -> int:
    return int(params * QUANTS[quant].bits_per_weight / 8)


def _params_of(model_info: Any) -> int | None:
    for name in ("params", "num_params", "parameters", "total_params", "n_params"):
        value = getattr(model_info, name, None)
        if isinstance(value, (int, float)) and value > 0:
            return int(value)
    return None


def recommend_quant(model_info: Any, hardware: Any = None) -> Recommendation:
    """A default quantization with its one-line reason.

    `model_info` is a models.ModelInfo (anything with a parameter count), or a run folder: the export page
    passes the run it is about to export, and the run's base model is looked up then.
    """
    if isinstance(model_info, (str, os.PathLike)):
        return _recommend_for_run(model_info, hardware)
    rec, avoid = _recommend(model_info, hardware), unsuited_quants(model_info)
    if rec.quant in avoid:
        billions = (_params_of(model_info) or 0) / 1e9
        rec = Recommendation(
            "q6_k",
            f"A {billions:.1f}B model: q6_k keeps it close to full quality ({rec.quant} does not suit it).",
        )
    return replace(rec, avoid=avoid)


def unsuited_quants(model_info: Any) -> dict[str, str]:
    """Quantizations whose files come out worse than a smaller one for this model, with the reason.

    llama.cpp's k-quants pack rows in blocks of 256 values; a model whose rows are not a multiple of that (the
    starter's are 576 wide) gets most tensors in older fallback types, and for q5_k_m those fallbacks measured
    worse than q4_k_m's (docs/verification.md: KL 0.22-0.30, perplexity up 22-98%; q6_k and q4_k_m pass)."""
    width = getattr(model_info, "hidden_size", 0) or 0
    if width and width % 256:
        return {
            "q5_k_m": f"Not for this model: its {width}-wide rows make llama.cpp fall back to older types, "
            "which comes out worse than q4_k_m."
        }
    return {}


def _recommend(model_info: Any, hardware: Any) -> Recommendation:
    params = _params_of(model_info)
    if params is None:
        return Recommendation(
            "q8_0", "Model size unknown: q8_0 is the safe choice (no visible quality loss)."
        )
    billions = params / 1e9
    if billions < 1:
        return Recommendation(
            "q8_0",
            f"Small models ({billions * 1000:.0f}M parameters) lose a lot at 4-bit; q8_0 keeps their quality.",
        )
    ram_mb = getattr(hardware, "ram_total_mb", 0) or 0
    q5_mb = gguf_bytes(params, "q5_k_m") / 2**20
    if billions < 4 and (not ram_mb or ram_mb > 4 * q5_mb):
        return Recommendation(
            "q5_k_m", f"A {billions:.1f}B model: q5_k_m keeps it close to full quality at a third of f16."
        )
    return Recommendation(
        "q4_k_m",
        f"A {billions:.1f}B model: q4_k_m is the usual laptop choice (a quarter of f16, small loss).",
    )


def _recommend_for_run(run_dir: str | os.PathLike[str], hardware: Any) -> Recommendation:
    from tunedesk.core.models.info import model_info
    from tunedesk.core.models.source import resolve_model
    from tunedesk.core.runs import load_config

    return recommend_quant(model_info(resolve_model(load_config(run_dir).model)), hardware)
