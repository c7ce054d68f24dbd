"""Is a model file whole? An interrupted download or copy leaves a file cut short that the libraries report as
"cannot reshape array" or "incomplete metadata" deep in a traceback; these checks say it plainly first.

safetensors: the header lists every tensor's byte range, so the file must reach the largest end offset
(headers only, no weights read). GGUF: gguf's reader maps every tensor and fails on a short file.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from tunedesk.core.errors import TuneDeskError

_HINT = "The file is incomplete (an interrupted download or copy?): copy or download the model again."


def _damaged(path: Path, why: str) -> TuneDeskError:
    return TuneDeskError(
        f"The model file {path.name} is damaged: {why}.",
        hint=_HINT,
        kind="bad_model",
        where={"file": str(path)},
    )


def check_safetensors(path: Path) -> None:
    """Raise a TuneDeskError when a .safetensors file is cut short or its header is unreadable."""
    size = path.stat().st_size
    try:
        with open(path, "rb") as fh:
            (header_len,) = struct.unpack("<Q", fh.read(8))
            if header_len > size - 8:
                raise _damaged(path, f"it is {size} bytes, shorter than its own header")
            header = json.loads(fh.read(header_len))
    except (struct.error, ValueError, UnicodeDecodeError):
        raise _damaged(path, "its header is unreadable") from None
    ends = [meta["data_offsets"][1] for name, meta in header.items() if name != "__metadata__"]
    expected = 8 + header_len + max(ends, default=0)
    if size < expected:
        raise _damaged(path, f"it holds {size:,} of its {expected:,} bytes")


def check_model_folder(folder: Path) -> None:
    """Check every safetensors file of a model folder."""
    for path in sorted(Path(folder).glob("*.safetensors")):
        check_safetensors(path)


def check_gguf(path: Path) -> None:
    """Raise a TuneDeskError when a GGUF file is cut short or unreadable (reads its tensor index, not weights)."""
    from gguf import GGUFReader

    try:
        GGUFReader(str(path))
    except (ValueError, OSError, IndexError, KeyError) as exc:
        raise _damaged(path, f"its tensors cannot be read ({exc})") from None
