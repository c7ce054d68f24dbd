"""llama.cpp's backends: registered before any model is opened, and the picked CPU build named from the
process's own mapped files (the installer's runtime-selected build is tested by packaging/linux/smoke.sh)."""

from __future__ import annotations

import ctypes
import mmap
from pathlib import Path

from tunedesk.core.chat.llama_backends import _ggml_of_libllama, cpu_variant, llama_cpp_module


def test_llama_cpp_comes_with_a_compute_backend_registered() -> None:
    # Counted in the libggml libllama itself uses: a wheel's other copy (libggml.so beside libggml.so.0) keeps a
    # registry of its own, empty in a runtime-selected build even when models load.
    llama_cpp = llama_cpp_module()
    ggml = _ggml_of_libllama()
    ggml.ggml_backend_reg_count.restype = ctypes.c_size_t
    assert ggml.ggml_backend_reg_count() >= 1
    assert llama_cpp_module() is llama_cpp  # once per process


def test_the_mapped_cpu_backend_file_names_the_variant(tmp_path: Path) -> None:
    # A developer build has one CPU backend (libggml-cpu.so), which names no variant.
    llama_cpp_module()
    assert cpu_variant() is None
    lib = tmp_path / "libggml-cpu-haswell.so"
    lib.write_bytes(b"\0" * mmap.PAGESIZE)
    with open(lib, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ):
        assert cpu_variant() == "haswell"
    assert cpu_variant() is None
