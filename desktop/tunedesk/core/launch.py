"""How the GUI and the CLI start a worker subprocess: one place, so a frozen app can re-enter itself.

In a source or pip install the worker is ``python -m tunedesk.worker ARGS``. In a frozen bundle (PyInstaller
sets ``sys.frozen``) there is no separate Python: the bundle's own executable is started with ``--worker``
first, and its entry point hands the rest of the arguments to `tunedesk.worker.__main__.main`.
"""

from __future__ import annotations

import os
import sys

from tunedesk.core.offline import enforce_offline

WORKER_FLAG = "--worker"


def worker_command(*args: str) -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, WORKER_FLAG, *args]
    return [sys.executable, "-m", "tunedesk.worker", *args]


def cli_command(*args: str) -> list[str]:
    """`tunedesk ARGS` as a subprocess (the GUI uses `--json` forms for work that needs torch/transformers)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, *args]
    return [sys.executable, "-m", "tunedesk", *args]


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
