"""What an export writes beside its GGUF for chatting with it: ``<name>.chat.json`` next to ``<name>.gguf``.

A GGUF alone does not say which system prompt its run trained with, nor where a base model of the same
quantization lies for a fair side-by-side. The export knows both and writes them here; `ChatEngine` and the
GUI's compare read them back. A GGUF without this file (the starter, one made elsewhere) simply has no
defaults: chat then uses the template's own system prompt, and a compare says which side is which.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from tunedesk.core.atomic import write_json_atomic


@dataclass
class GgufCompanion:
    system_prompt: str | None = None  # the run's training system prompt (None: the template's default)
    run_dir: str | None = None  # the run the GGUF was exported from
    quant: str | None = None  # e.g. "q8_0"
    base_gguf: str | None = None  # the base model at the same quantization, when the export made one
    checkpoint: str | None = None  # the run's adapter it was made from: "best" (best/) or "final" (adapter/)


def companion_path(gguf: str | os.PathLike[str]) -> Path:
    path = Path(gguf)
    return path.with_name(path.name.removesuffix(".gguf") + ".chat.json")


def write_companion(gguf: str | os.PathLike[str], companion: GgufCompanion) -> Path:
    return write_json_atomic(companion_path(gguf), companion.__dict__)


def read_companion(gguf: str | os.PathLike[str]) -> GgufCompanion | None:
    """The companion of this GGUF, or None (absent or unreadable: chatting must never fail because of it)."""
    try:
        data = json.loads(companion_path(gguf).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    fields = GgufCompanion.__dataclass_fields__
    return GgufCompanion(
        **{k: v for k, v in data.items() if k in fields and (v is None or isinstance(v, str))}
    )
