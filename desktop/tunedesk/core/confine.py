"""Paths read from run files and user data stay inside their folder.

A run folder may come from elsewhere (copied from another machine, unpacked from an archive): its config.json,
its subfolders and its names are data, not instructions. TuneDesk writes and deletes inside a run folder
(checkpoints are pruned, exports replaced), so a symlink there that leads out, or a relative path that
climbs out with '..', would make those writes land in the user's other files. Names that become file names
(export files, run folders, feedback datasets) are reduced to safe characters before they are joined.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tunedesk.core.errors import TuneDeskError

# The parts of a run folder TuneDesk writes into or deletes from (core/runs.py RunLayout).
RUN_SUBFOLDERS = ("data", "checkpoints", "best", "adapter", "export")


def inside(base: str | Path, path: str | Path, field: str) -> Path:
    """`path` (relative paths are taken from `base`) with symlinks resolved, if it stays inside `base`;
    otherwise a TuneDeskError naming the field and both places."""
    base = Path(base)
    candidate = Path(path) if Path(path).is_absolute() else base / path
    real, real_base = Path(os.path.realpath(candidate)), Path(os.path.realpath(base))
    if real == real_base or real.is_relative_to(real_base):
        return real
    raise TuneDeskError(
        f"'{field}' leads outside {base}: {path} is {real}.",
        hint=f"Keep everything of this folder inside it: remove the link or the '..' from {field}, or copy "
        "what it points to into the folder.",
        kind="path_outside",
        where={"folder": str(base), "field": field, "path": str(path)},
    )


def check_run_folder(root: str | Path) -> None:
    """Refuse a run folder whose parts TuneDesk writes to (or their entries) are links leading out of it."""
    root = Path(root)
    for name in RUN_SUBFOLDERS:
        part = root / name
        if not (part.exists() or part.is_symlink()):
            continue
        inside(root, part, name)
        if part.is_dir():
            for entry in part.iterdir():
                if entry.is_symlink():
                    inside(root, entry, f"{name}/{entry.name}")


def check_relative(root: str | Path, path: str, field: str) -> None:
    """A path stored in a run file: an absolute one is the user's own choice (the CLI and the GUI store
    absolute paths); a relative one (a hand-edited or foreign config) must not climb out of the run folder."""
    if not Path(path).expanduser().is_absolute():
        inside(root, path, field)


def safe_file_stem(name: str, fallback: str = "model") -> str:
    """`name` as a file name: letters, digits, '.', '_' and '-' only, never '', '.' or '..'."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return stem or fallback
