"""The base model at the tuned model's quantization, so Chat's side-by-side compares like with like.

Putting a tuned q8_0 beside the base at the starter's Q4_1 mixes two differences (the training and the
rounding). The export therefore also writes the base model it merged into, converted and quantized the same
way, once per base and quantization: ``<models>/same-quant/<base folder>-<digest>-<quant>.gguf``. For a GGUF
base (the starter) that folder is its de-quantized copy, which is exactly what the tuned model started from.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tunedesk.core.export.convert import convert_to_gguf
from tunedesk.core.export.quantize import quantize_gguf


def same_quant_base_path(base_dir: Path, quant: str) -> Path:
    from tunedesk.core.paths import models_dir

    digest = hashlib.sha256(str(Path(base_dir).resolve()).encode()).hexdigest()[:8]
    return models_dir() / "same-quant" / f"{Path(base_dir).name}-{digest}-{quant}.gguf"


def same_quant_base(base_dir: Path, quant: str, *, log: Callable[[str], Any] = print) -> tuple[Path, bool]:
    """(the base model's GGUF at `quant`, whether it was made now): made once, then found in the cache."""
    target = same_quant_base_path(base_dir, quant)
    if target.is_file():
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    # Own temp names per process: two exports of the same base at once each write their own, the last
    # rename wins, and both files are the same model.
    f16 = target.with_name(f".{target.stem}.{os.getpid()}.f16.gguf")
    partial = target.with_name(f".{target.stem}.{os.getpid()}.gguf.partial")
    try:
        convert_to_gguf(Path(base_dir), f16, log=log)
        if quant == "f16":
            os.replace(f16, target)
        else:
            quantize_gguf(f16, partial, quant)
            os.replace(partial, target)
    finally:
        f16.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return target, True
