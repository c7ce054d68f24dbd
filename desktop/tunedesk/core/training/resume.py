"""Resuming from the newest checkpoint that actually loads, not merely the newest that looks complete.

A checkpoint folder with its COMPLETE marker can still be damaged afterwards (a disk error, a sync tool, a
hand edit). Loading one fails deep inside safetensors or torch; instead of that traceback, the damaged folder
is moved aside as ``step-N.corrupt`` (kept for inspection, never read again) and the previous good one is
used, with a warning in the log. A full fine-tune's checkpoint is the model itself, loaded before this point,
so a damaged one is reported plainly instead.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.runs import RunLayout
from tunedesk.core.training.checkpoints import TrainerState, restore, valid_checkpoints

log = logging.getLogger("tunedesk.training")


def _set_aside(folder: Path) -> Path:
    aside = folder.with_name(folder.name + ".corrupt")
    n = 1
    while aside.exists():
        n += 1
        aside = folder.with_name(f"{folder.name}.corrupt{n}")
    os.replace(folder, aside)
    return aside


def restore_newest_good(
    layout: RunLayout, model: Any, optimizer: Any, scheduler: Any, scaler: Any, *, full: bool
) -> tuple[TrainerState, dict[str, Any], Path]:
    """Restore the newest checkpoint that loads; returns (state, rng state, its folder)."""
    found = valid_checkpoints(layout)
    for _step, folder in reversed(found):
        try:
            state, rng = restore(folder, model, optimizer, scheduler, scaler, full=full)
            return state, rng, folder
        except TuneDeskError:
            raise  # a checkpoint of other settings: falling back would not help
        except Exception as exc:  # noqa: BLE001 - any unreadable file means the same: this one is damaged
            if full:
                raise _damaged(
                    folder, exc, "A full fine-tune resumes only from its newest checkpoint."
                ) from None
            aside = _set_aside(folder)
            log.warning(
                "checkpoint %s is damaged (%s: %s); moved aside as %s, trying the one before it",
                folder.name, type(exc).__name__, exc, aside.name,
            )  # fmt: skip
    raise _damaged(layout.checkpoints, None, "No earlier checkpoint could be loaded either.")


def _damaged(folder: Path, exc: BaseException | None, why: str) -> TuneDeskError:
    detail = f" ({type(exc).__name__}: {exc})" if exc else ""
    return TuneDeskError(
        f"The checkpoint {folder} is damaged and cannot be loaded{detail}. {why}",
        hint="Delete the damaged checkpoint folder to continue from an earlier one, or start the run again.",
        kind="bad_checkpoint",
        where={"folder": str(folder)},
    )
