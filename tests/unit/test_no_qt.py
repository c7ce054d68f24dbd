"""tunedesk.core and tunedesk.worker never import Qt: import every module with Qt made unimportable."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "desktop"

PROBE = textwrap.dedent(
    """
    import importlib, importlib.abc, pkgutil, sys

    BLOCKED = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "tunedesk.ui")

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                raise ImportError(f"{name} is blocked: core must not import Qt")
            return None

    sys.meta_path.insert(0, Block())
    import tunedesk.core, tunedesk.worker
    names = []
    for pkg in (tunedesk.core, tunedesk.worker):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            if info.name.endswith("__main__"):
                continue
            importlib.import_module(info.name)
            names.append(info.name)
    leaked = [m for m in sys.modules if any(m == b or m.startswith(b + ".") for b in BLOCKED)]
    assert not leaked, leaked
    print(len(names))
    """
)


def test_core_and_worker_import_without_qt() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "PATH": ""},
    )
    assert proc.returncode == 0, proc.stderr
    # Guard against the probe passing vacuously: it must have imported the core's modules.
    assert int(proc.stdout.strip()) >= 8


def test_blocker_really_blocks() -> None:
    """The probe's blocker is what makes the test above meaningful: check it rejects a Qt import."""
    code = PROBE.split("import tunedesk.core")[0] + "import PySide6.QtCore\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode != 0 and "blocked" in proc.stderr
