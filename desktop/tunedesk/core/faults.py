"""Fault injection for tests: make a worker fail at a precise point, the way real machines fail.

``TUNEDESK_FAULT`` holds comma-separated ``NAME:STEP`` entries, e.g. ``crash_in_checkpoint_save:4``; a name
without a step is armed everywhere it is checked. Training faults (STEP = the optimizer step):

- ``crash_in_step:N``              os._exit(137) inside step N, before the optimizer update (kill -9 mid-step).
- ``crash_after_step:N``           os._exit(137) right after optimizer step N, before its events or checkpoint.
- ``crash_in_validation:N``        os._exit(137) in the validation check at step N (0: the base model's check).
- ``crash_in_checkpoint_save:N``   os._exit(137) halfway through writing checkpoint N (a kill -9 or power cut
  mid-save): the adapter is written, the optimizer state and the completion marker are not.
- ``disk_full_in_checkpoint_save:N`` / ``readonly_in_checkpoint_save:N``  the same point raises OSError
  ENOSPC / EROFS, as a full or read-only disk does below a write.
- ``oom_at_step:N`` / ``torch_oom_at_step:N``  raise MemoryError / torch.OutOfMemoryError inside step N.

A slower machine (no step): ``slow_general_answers`` waits 5 s before the base model answers the general
prompts, so a test sees what another process of the run does meanwhile.

Export faults (no step): ``disk_full_in_export`` raises ENOSPC while the merged model is being written.

Unset in normal use; reading it costs one dict lookup per check.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
import time

ENV = "TUNEDESK_FAULT"
CRASH_EXIT = 137  # what a shell reports for kill -9
OS_ERRORS = {"disk_full": errno.ENOSPC, "readonly": errno.EROFS}

log = logging.getLogger("tunedesk.faults")


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


def armed(name: str, step: int = -1) -> bool:
    """True when fault `name` is set for `step` (or for every step, written without a number)."""
    steps = _faults().get(name)
    return bool(steps) and (step in steps or -1 in steps)


def maybe_wait(name: str, seconds: float = 5.0) -> None:
    """Sleep `seconds` when `name` is armed: a slow machine, at a point where other processes run on."""
    if armed(name):
        log.warning("fault injection: %s (%s s)", name, seconds)
        time.sleep(seconds)


def maybe_crash(name: str, step: int) -> None:
    """Die like kill -9 when `name` is armed for `step`: no cleanup, no finally blocks, no flushing."""
    if armed(name, step):
        log.warning("fault injection: %s at step %s", name, step)
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stderr.flush()
        os._exit(CRASH_EXIT)


def maybe_raise_os_error(where: str, step: int = -1) -> None:
    """Raise the OSError a full (``disk_full_<where>``) or read-only (``readonly_<where>``) disk raises."""
    for prefix, code in OS_ERRORS.items():
        if armed(f"{prefix}_{where}", step):
            raise OSError(code, f"{os.strerror(code)} (fault injection: {prefix}_{where})")


def in_step(step: int) -> None:
    """The faults of the inside of optimizer step `step`: kill -9, or running out of memory."""
    maybe_crash("crash_in_step", step)
    if armed("oom_at_step", step):
        raise MemoryError(f"fault injection: oom_at_step:{step}")
    if armed("torch_oom_at_step", step):
        import torch

        raise torch.OutOfMemoryError(f"fault injection: torch_oom_at_step:{step}")
