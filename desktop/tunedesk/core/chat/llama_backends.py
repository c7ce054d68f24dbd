"""Importing llama_cpp with llama.cpp's compute backends loaded.

The installers build llama.cpp with ``GGML_BACKEND_DL=ON GGML_CPU_ALL_VARIANTS=ON``: one CPU backend per
instruction-set level (``libggml-cpu-x64``, ``-sse42``, ``-haswell``, ``-skylakex``, ``-sapphirerapids``, ...)
beside libllama. llama.cpp scores each against the running CPU and keeps the best, so an old laptop gets code it
can run (no "illegal instruction") and a new one gets AVX-512 or AMX. llama-cpp-python does not load them itself
(llama-cpp-python #2069): without this every model load fails with "no backends are loaded". A build without
``GGML_BACKEND_DL`` (the source install) registers its CPU backend when the library loads, and this does
nothing.

Only the backend folder of the llama_cpp package is searched, never the working directory.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from pathlib import Path
from types import ModuleType

from tunedesk.core.errors import TuneDeskError

_lock = threading.Lock()
_loaded = False


def llama_cpp_module() -> ModuleType:
    """``llama_cpp``, imported, with at least one compute backend registered."""
    global _loaded
    import llama_cpp

    with _lock:
        if not _loaded:
            # llama-cpp-python prints llama.cpp's log to stderr until a Llama(verbose=False) quiets it: keep
            # "load_backend: loaded CPU backend from ..." out of the CLI's output.
            quiet = logging.getLogger("llama-cpp-python")
            if quiet.level == logging.NOTSET:
                quiet.setLevel(logging.ERROR)
            _load_backends(Path(llama_cpp.__file__).parent / "lib")
            _loaded = True
    return llama_cpp


def _load_backends(lib_dir: Path) -> None:
    ggml = _ggml_of_libllama()
    ggml.ggml_backend_reg_count.restype = ctypes.c_size_t
    ggml.ggml_backend_reg_count.argtypes = []
    if ggml.ggml_backend_reg_count() > 0:
        return
    ggml.ggml_backend_load_all_from_path.restype = None
    ggml.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
    ggml.ggml_backend_load_all_from_path(str(lib_dir).encode())
    if ggml.ggml_backend_reg_count() == 0:
        raise TuneDeskError(
            "llama.cpp found no compute backend it can run on this processor.",
            hint=f"The CPU backend files (libggml-cpu-*) should be in {lib_dir}; reinstall TuneDesk.",
            kind="llama_backend_missing",
            where={"folder": str(lib_dir)},
        )


def _ggml_of_libllama() -> ctypes.CDLL:
    """The libggml instance libllama itself uses. Wheels store libggml.so, .so.0 and .so.0.x.y as three copies,
    and libllama loads .so.0: opening another copy by path would give a second library with its own, empty,
    backend registry. dlsym on libllama's handle searches its dependencies (Linux, macOS); Windows has one
    ggml.dll, which llama-cpp-python's own loader finds."""
    import llama_cpp.llama_cpp as bindings

    libllama = bindings._lib
    try:
        libllama.ggml_backend_load_all_from_path  # noqa: B018  (resolves the symbol, or raises)
    except AttributeError:
        from llama_cpp._ggml import libggml

        return libggml
    return libllama


def cpu_variant() -> str | None:
    """The CPU backend llama.cpp picked for this processor (e.g. ``haswell``) in a runtime-selected build;
    None in a build with one CPU backend, or where the process's mapped files cannot be read (non-Linux)."""
    try:
        maps = Path("/proc/self/maps").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in maps.splitlines():
        name = line.rsplit("/", 1)[-1]
        if name.startswith("libggml-cpu-") and name.endswith(".so"):
            return name[len("libggml-cpu-") : -len(".so")]
    return None
