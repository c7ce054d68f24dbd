"""How the GUI and the CLI start a worker subprocess: one place, so a frozen app can re-enter itself.

In a source or pip install the worker is ``python -m tunedesk.worker ARGS``. In a frozen bundle (PyInstaller
sets ``sys.frozen``) there is no separate Python: the bundle's own executable is started with ``--worker``
first, and its entry point hands the rest of the arguments to `tunedesk.worker.__main__.main`. A Python
script shipped as a file (llama.cpp's converter, see core/vendor.py) is run the same way, with
``--run-script SCRIPT ARGS``.
"""

from __future__ import annotations

import os
import runpy
import sys

from tunedesk.core.offline import enforce_offline

WORKER_FLAG = "--worker"
SCRIPT_FLAG = "--run-script"


def worker_command(*args: str) -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, WORKER_FLAG, *args]
    return [sys.executable, "-m", "tunedesk.worker", *args]


def cli_command(*args: str) -> list[str]:
    """`tunedesk ARGS` as a subprocess (the GUI uses `--json` forms for work that needs torch/transformers)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, *args]
    return [sys.executable, "-m", "tunedesk", *args]


def script_command(script: str, *args: str) -> list[str]:
    """`python SCRIPT ARGS` as a subprocess; a frozen bundle runs the script with its own interpreter."""
    if getattr(sys, "frozen", False):
        return [sys.executable, SCRIPT_FLAG, script, *args]
    return [sys.executable, script, *args]


def run_script(script: str, args: list[str]) -> int:
    """The frozen side of `script_command`: run SCRIPT as ``__main__`` with its folder first on sys.path.

    Why first: the converter's own ``gguf`` package sits beside it and must win over the PyPI ``gguf``
    frozen into the bundle (PyInstaller's importer is a path hook, so sys.path order decides). A frozen
    interpreter ignores PYTHONPATH, hence the explicit insert.
    """
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    sys.argv = [script, *args]
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as stop:
        code = stop.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def worker_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The child's environment: offline switches on, unbuffered output, our source importable."""
    env = dict(os.environ if base is None else base)
    enforce_offline(env)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if src not in parts:
        env["PYTHONPATH"] = os.pathsep.join([src, *parts])
    return env
