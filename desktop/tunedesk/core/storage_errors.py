"""A failed write, told plainly: a full disk, a read-only or vanished folder, instead of an errno traceback.

Training and export both write large files for minutes; the disk can fill, be unplugged, be remounted
read-only, or the folder can be deleted under them. `storage_error` turns the OSError into a TuneDeskError
that names the folder, says what was kept, and what to do.

Libraries do not always raise an OSError for it: safetensors raises its own error with "(os error 28)" in the
text, and torch.save a RuntimeError ("unexpected pos") with no errno at all. `storage_error_for` therefore
reads the errno from the text, and failing that asks the folder itself with a small probe write.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from pathlib import Path

from tunedesk.core.errors import TuneDeskError

_KINDS = {
    errno.ENOSPC: "disk_full",
    errno.EDQUOT: "disk_full",
    errno.EROFS: "folder_not_writable",
    errno.EACCES: "folder_not_writable",
    errno.EPERM: "folder_not_writable",
    errno.ENOENT: "folder_missing",
}


def storage_error(exc: OSError, folder: Path, doing: str, kept: str) -> TuneDeskError | None:
    """The TuneDeskError for `exc` raised while `doing` (e.g. "saving checkpoint 6") in `folder`, or None when
    it is not a storage problem. `kept` says what is still intact (e.g. "checkpoint 4 is intact")."""
    kind = _KINDS.get(exc.errno or 0)
    if kind is None:
        return None
    if kind == "disk_full":
        message = f"The disk is full: {doing} failed in {folder}."
        hint = "Free some disk space (or move the folder to a bigger disk), then continue."
    elif kind == "folder_not_writable":
        message = f"{folder} cannot be written to (read-only or no permission): {doing} failed."
        hint = "Make the folder writable again (or remount the disk read-write), then continue."
    else:
        message = f"{folder} was deleted or moved while TuneDesk was using it: {doing} failed."
        hint = "Put the folder back where it was (or start again); nothing was written elsewhere."
    return TuneDeskError(
        f"{message} {kept[:1].upper()}{kept[1:]}." if kept else message,
        hint=hint,
        kind=kind,
        where={"folder": str(folder), "error": exc.strerror or str(exc)},
    )


LOW_SPACE = 16 * 2**20  # below this the disk is as good as full for a save of weights
_OS_ERROR_IN_TEXT = re.compile(r"os error (\d+)")


def probe_write(folder: Path, size: int = 2**20) -> OSError | None:
    """The OSError a write of `size` bytes into `folder` raises now (or a full disk's), else None."""
    if not folder.is_dir():
        return OSError(errno.ENOENT, os.strerror(errno.ENOENT))
    path = folder / f".tunedesk-write-probe-{os.getpid()}"
    try:
        with open(path, "wb") as fh:
            fh.write(bytes(size))
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        return exc
    finally:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass
    if shutil.disk_usage(folder).free < LOW_SPACE:
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return None


def storage_error_for(exc: BaseException, folder: Path, doing: str, kept: str) -> TuneDeskError | None:
    """`storage_error` for any exception a failed write raised, when the storage is to blame."""
    if isinstance(exc, OSError) and exc.errno in _KINDS:
        return storage_error(exc, folder, doing, kept)
    found = _OS_ERROR_IN_TEXT.search(str(exc))
    if found and int(found.group(1)) in _KINDS:
        code = int(found.group(1))
        return storage_error(OSError(code, os.strerror(code)), folder, doing, kept)
    probed = probe_write(folder)
    return storage_error(probed, folder, doing, kept) if probed is not None else None
