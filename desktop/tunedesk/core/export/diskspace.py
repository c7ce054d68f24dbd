"""How much disk an export needs, and refusing early when there is not enough.

A disk that fills up half-way leaves a truncated GGUF that fails later in someone else's program: this check
runs before any work starts. The parameter count is read from the safetensors headers (no weights loaded).
"""

from __future__ import annotations

import json
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.export.quants import gguf_bytes
from tunedesk.core.formatting import gb

FreeSpace = Callable[[Path], int]
MARGIN = 1.10  # metadata, the tokenizer, and the file systems' own rounding


def free_bytes(path: Path) -> int:
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def count_params(folder: Path) -> int:
    """Parameters stored in a model folder's *.safetensors files (tied weights counted once)."""
    total = 0
    for file in sorted(Path(folder).glob("*.safetensors")):
        with open(file, "rb") as fh:
            (size,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(size))
        for name, meta in header.items():
            if name == "__metadata__":
                continue
            n = 1
            for dim in meta["shape"]:
                n *= dim
            total += n
    return total


def export_bytes(params: int, quant: str, *, merged_exists: bool) -> int:
    """Bytes an export writes: the fp32 merged folder (unless reused), the f16 GGUF and the quantized copy."""
    need = 0 if merged_exists else params * 4
    need += gguf_bytes(params, "f16")
    if quant != "f16":
        need += gguf_bytes(params, quant)
    return int(need * MARGIN)


def check_disk_space(out_dir: Path, needed: int, free: FreeSpace = free_bytes) -> None:
    have = free(out_dir)
    if have < needed:
        raise TuneDeskError(
            f"Not enough free disk space to export: it needs about {gb(needed / 2**20)}, "
            f"and {gb(have / 2**20)} is free.",
            hint="Free some space on that disk, or export to another disk with --out DIR.",
            kind="disk_full",
            where={"folder": str(out_dir), "needed_bytes": needed, "free_bytes": have},
        )
