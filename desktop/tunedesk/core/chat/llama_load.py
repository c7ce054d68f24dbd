"""Opening a GGUF file with llama-cpp-python: the checks before llama.cpp sees the file, and the settings.

Two things every caller (the chat engine, export verification) needs and that llama-cpp-python's defaults
get wrong here:

* Threads: llama-cpp-python defaults to half the logical CPUs, which halves generation speed on a 2-core
  laptop (FINDINGS.md). We use the physical core count for both prompt processing and generation.
* Extra buffer types: llama.cpp repacks weights for AMX on CPUs that report AMX. Under virtual machines that
  hide AMX state from the guest (Firecracker, seen here) the first multi-token batch dies with a general
  protection fault: a segfault of the whole process, no Python exception. On such CPUs the repacking is
  turned off (the plain CPU kernels give the same answers). ``TUNEDESK_LLAMA_EXTRA_BUFFERS=1`` forces it on,
  ``=0`` off.

llama_cpp is imported inside the functions: the GUI must not pay for it at start-up.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tunedesk.core.chat.llama_backends import llama_cpp_module
from tunedesk.core.errors import TuneDeskError

GGUF_MAGIC = b"GGUF"
# A GGUF header (magic, version, tensor count, metadata count) alone is 24 bytes; anything shorter is broken.
_MIN_GGUF_BYTES = 24
_params_lock = threading.Lock()


def check_gguf_file(path: str | os.PathLike[str]) -> Path:
    """The path as a Path when it is a readable GGUF file; a TuneDeskError saying what is wrong otherwise."""
    p = Path(path).expanduser()
    where = {"file": str(p)}
    if not p.exists():
        raise TuneDeskError(
            f"The model file {p} does not exist.",
            hint="Check the path; `tunedesk export RUN_DIR` prints where the GGUF file was written.",
            kind="missing_model",
            where=where,
        )
    if p.is_dir():
        raise TuneDeskError(
            f"{p} is a folder, not a GGUF model file.",
            hint="Pick the .gguf file inside it (an exported run keeps it in RUN_DIR/export/).",
            kind="bad_model",
            where=where,
        )
    try:
        with open(p, "rb") as fh:
            head = fh.read(_MIN_GGUF_BYTES)
    except OSError as exc:
        raise TuneDeskError(
            f"The model file {p} cannot be read ({exc.strerror}).",
            hint="Check the file's permissions.",
            kind="bad_model",
            where=where,
        ) from None
    if head[:4] != GGUF_MAGIC:
        raise TuneDeskError(
            f"{p.name} is not a GGUF model file (it does not start with the GGUF signature).",
            hint="Chat needs a .gguf file such as the one `tunedesk export` writes; a safetensors folder or "
            "an unfinished download will not do.",
            kind="bad_model",
            where=where,
        )
    if len(head) < _MIN_GGUF_BYTES:
        raise TuneDeskError(
            f"{p.name} is cut short ({len(head)} bytes): the GGUF file is incomplete.",
            hint="Export or copy the file again.",
            kind="bad_model",
            where=where,
        )
    return p


def physical_cores() -> int:
    try:
        import psutil

        n = psutil.cpu_count(logical=False)
    except Exception:  # psutil cannot always tell (some containers): fall back to the logical count
        n = None
    return max(1, n or os.cpu_count() or 1)


def _cpu_has_amx() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return "amx_tile" in line.split()
    except OSError:
        pass
    return False


def extra_buffers_allowed() -> bool:
    forced = os.environ.get("TUNEDESK_LLAMA_EXTRA_BUFFERS", "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    return not _cpu_has_amx()


@contextlib.contextmanager
def _model_params_without_extra_buffers() -> Iterator[None]:
    # Llama() builds its model params from llama_model_default_params() and exposes no switch for
    # use_extra_bufts, so the default is swapped for the duration of one load (under a lock: the function is
    # module state shared by every thread).
    import llama_cpp.llama_cpp as lib

    with _params_lock:
        original = lib.llama_model_default_params

        def patched() -> Any:
            params = original()
            params.use_extra_bufts = False
            return params

        lib.llama_model_default_params = patched
        try:
            yield
        finally:
            lib.llama_model_default_params = original


def load_llama(
    path: str | os.PathLike[str],
    *,
    n_ctx: int = 2048,
    n_threads: int | None = None,
    logits_all: bool = False,
    seed: int = 0,
) -> Any:
    """A llama_cpp.Llama for a checked GGUF file, or a TuneDeskError when llama.cpp cannot load it."""
    p = check_gguf_file(path)
    llama_cpp = llama_cpp_module()

    threads = n_threads or physical_cores()
    # The prompt is read (batch) and the answer written on the same threads.
    thread_counts = {"n_threads": threads, "n_threads_batch": threads}
    guard = contextlib.nullcontext() if extra_buffers_allowed() else _model_params_without_extra_buffers()
    try:
        with guard:
            return llama_cpp.Llama(
                model_path=str(p),
                n_ctx=n_ctx,
                logits_all=logits_all,
                seed=seed,
                verbose=False,
                **thread_counts,
            )
    except (ValueError, RuntimeError, OSError) as exc:
        hint = "The file may be damaged or made for a newer llama.cpp; export it again, or update TuneDesk."
        raise TuneDeskError(
            f"llama.cpp could not load {p.name}: {exc}.", hint=hint, kind="bad_model", where={"file": str(p)}
        ) from None
