"""Refusing an export whose fp32 merge cannot fit in memory, before it starts rather than after it fails.

The merge loads the base model in fp32 (4 bytes a parameter: about 28 GB for a 7B model) and merges the
adapter in place; running out of memory half-way can freeze a laptop for minutes before the process dies.
"""

from __future__ import annotations

from collections.abc import Callable

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.formatting import gb

AvailableRam = Callable[[], int]
MARGIN = 1.15  # the adapter, the tokenizer, python and torch themselves


def available_ram() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def merge_bytes(params: int) -> int:
    """Memory the fp32 merge of a model with `params` parameters needs."""
    return int(params * 4 * MARGIN)


def check_merge_memory(params: int, available: AvailableRam = available_ram) -> None:
    needed, have = merge_bytes(params), available()
    if have < needed:
        raise TuneDeskError(
            f"Not enough free memory to merge the model: the fp32 merge of {params / 1e9:.1f}B parameters "
            f"needs about {gb(needed / 2**20)}, and {gb(have / 2**20)} is available. Nothing was started.",
            hint="Close other programs (the chat pane, a browser) and export again, or export on a machine "
            "with more memory; the adapter in the run folder is kept either way.",
            kind="out_of_memory",
            where={"needed_bytes": needed, "available_bytes": have},
        )
