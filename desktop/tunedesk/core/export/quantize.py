"""f16 GGUF -> a smaller quantized GGUF with llama.cpp's quantizer (llama-cpp-python's ctypes binding)."""

from __future__ import annotations

import os
from pathlib import Path

from tunedesk.core.chat.llama_backends import llama_cpp_module
from tunedesk.core.chat.llama_load import physical_cores
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.export.quants import get_quant


def quantize_gguf(src: Path, dst: Path, quant: str) -> Path:
    """Write `dst` quantized to `quant` from the f16 file `src`; `dst` must be a new path (e.g. *.partial)."""
    q = get_quant(quant)
    llama_cpp = llama_cpp_module()

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = q.ftype
    params.nthread = physical_cores()
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.unlink(missing_ok=True)
    rc = llama_cpp.llama_model_quantize(os.fsencode(src), os.fsencode(dst), params)
    if rc != 0 or not dst.is_file():
        dst.unlink(missing_ok=True)
        raise TuneDeskError(
            f"llama.cpp could not quantize the model to {quant} (status {rc}).",
            hint="Try another quantization (q8_0 works for every model), and check free disk space.",
            kind="quantize_failed",
            where={"file": str(src)},
        )
    return dst
