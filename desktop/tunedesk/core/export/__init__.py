"""GGUF export of a trained run: merge, convert, quantize, verify, Modelfile (see pipeline.py).

Importing this package is cheap: torch, transformers and llama_cpp are imported by the steps that use them.
"""

from __future__ import annotations

from tunedesk.core.export.quants import QUANT_NAMES, QUANTS, Recommendation, recommend_quant

__all__ = ["QUANTS", "QUANT_NAMES", "Recommendation", "recommend_quant"]
