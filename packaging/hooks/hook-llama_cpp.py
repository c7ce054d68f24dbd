"""PyInstaller hook for llama-cpp-python: its shared libraries are loaded with ctypes from
``llama_cpp/lib/`` at run time, which PyInstaller's analysis cannot see ("Shared library with base name
'llama' not found", llama-cpp-python #1475). Collect them into the same place inside the bundle."""

from PyInstaller.utils.hooks import collect_data_files, collect_dynamic_libs, copy_metadata

# libllama, libggml, libggml-base, libggml-cpu (+ libggml-metal / ggml-*.dll on other platforms);
# versioned names too (libfoo.so.1), which the default patterns miss.
binaries = collect_dynamic_libs("llama_cpp", search_patterns=["*.dll", "*.dylib", "lib*.so", "lib*.so.*"])
# Metal shader sources/libraries on macOS builds (absent elsewhere: an empty list).
datas = collect_data_files("llama_cpp", includes=["**/*.metal", "**/*.metallib"]) + copy_metadata(
    "llama_cpp_python"
)
excludedimports = ["llama_cpp.server"]  # FastAPI server: not used, and its dependencies are not installed
