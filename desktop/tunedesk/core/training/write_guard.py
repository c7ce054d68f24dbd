"""Writes into a run folder that may vanish, fill up or turn read-only while a run trains.

`run_folder_writes` wraps each save of the recipe: it refuses to write into a run folder that was deleted
(rather than silently recreating half of it), and turns a storage OSError into a TuneDeskError that says
which checkpoint is still intact, so the worker ends with a clear message instead of an errno traceback.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager

from tunedesk.core.runs import RunLayout
from tunedesk.core.storage_errors import storage_error, storage_error_for
from tunedesk.core.training.checkpoints import latest_checkpoint


def _kept(layout: RunLayout) -> str:
    try:
        last = latest_checkpoint(layout)
    except OSError:
        last = None
    if last is None:
        return "no checkpoint was saved yet"
    return f"the last complete checkpoint ({last.name}) is intact; `tunedesk resume` continues from it"


@contextmanager
def run_folder_writes(layout: RunLayout, doing: str) -> Iterator[None]:
    """Raise a clear TuneDeskError when `doing` cannot write into the run folder."""
    if not layout.config.is_file():
        err = storage_error(OSError(errno.ENOENT, os.strerror(errno.ENOENT)), layout.root, doing, "")
        assert err is not None  # ENOENT is a storage error by definition
        raise err
    try:
        yield
    except Exception as exc:  # safetensors and torch report a full disk as their own errors, not OSError
        err = storage_error_for(exc, layout.root, doing, _kept(layout))
        if err is None:
            raise
        raise err from None
