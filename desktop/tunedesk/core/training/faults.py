"""Fault injection for tests: make the worker fail at a precise point, the way real machines fail.

``TUNEDESK_FAULT`` holds comma-separated ``NAME:STEP`` entries, e.g. ``crash_in_checkpoint_save:4``:

- ``crash_in_checkpoint_save:N``  os._exit(137) halfway through writing checkpoint N (a kill -9 or power cut
  mid-save): the adapter is written, the optimizer state and the completion marker are not.
- ``crash_after_step:N``          os._exit(137) right after optimizer step N, before its events or checkpoint.
- ``oom_at_step:N``               raise MemoryError inside step N (the out-of-memory path, testable on a CPU).

Unset in normal use; reading it costs one dict lookup per check.
"""

from __future__ import annotations

import logging
import os
import sys

ENV = "TUNEDESK_FAULT"
CRASH_EXIT = 137  # what a shell reports for kill -9

log = logging.getLogger("tunedesk.training")


def _faults() -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for item in os.environ.get(ENV, "").split(","):
        name, _, step = item.strip().partition(":")
        if name:
            try:
                out.setdefault(name, set()).add(int(step) if step else -1)
            except ValueError:
                continue
    return out


def armed(name: str, step: int) -> bool:
    """True when fault `name` is set for `step` (or for every step, written without a number)."""
    steps = _faults().get(name)
    return bool(steps) and (step in steps or -1 in steps)


def maybe_crash(name: str, step: int) -> None:
    """Die like kill -9 when `name` is armed for `step`: no cleanup, no finally blocks, no flushing."""
    if armed(name, step):
        log.warning("fault injection: %s at step %s", name, step)
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stderr.flush()
        os._exit(CRASH_EXIT)


def maybe_raise_oom(step: int) -> None:
    if armed("oom_at_step", step):
        raise MemoryError(f"fault injection: oom_at_step:{step}")
