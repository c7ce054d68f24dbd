"""The app starts without torch, transformers or llama_cpp: they load only in worker subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui
# gguf-py too: naming a GGUF file's quantization once imported it (and numpy) into the GUI.
HEAVY = ("torch", "transformers", "llama_cpp", "peft", "accelerate", "datasets", "gguf")

# Starts the real app entry point (`tunedesk` without arguments ends here) and lets its event loop run for a
# few seconds, so the pages' start-up work (threads, subprocesses) happens too; then lists heavy modules.
CHILD = """
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(["tunedesk"])
shown, at_show = [], []
# Runs when the event loop starts, right after the window is shown: the plots' library is not loaded yet.
QTimer.singleShot(0, lambda: at_show.extend(m for m in ("pyqtgraph", "numpy") if m in sys.modules))
def look_and_quit():
    shown.extend(w.windowTitle() for w in app.topLevelWidgets() if w.isVisible())
    app.quit()
# One timer for both: timers of 2 s and more are coarse (5%%), so a 3.9 s and a 4 s one may fire in either order.
QTimer.singleShot(4000, look_and_quit)
from tunedesk.cli.main import main
code = main([])
heavy = [m for m in %r if m in sys.modules]
print(json.dumps({"code": code, "heavy": heavy, "windows": shown, "at_show": at_show}))
"""


def test_gui_start_up_does_not_import_torch_transformers_or_llama_cpp(tmp_path: Path):
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # the child's QSettings, not the user's
        "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "desktop"),
    }
    proc = subprocess.run(
        [sys.executable, "-c", CHILD % (HEAVY,)], env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["code"] == 0
    assert "TuneDesk" in result["windows"], (result, proc.stderr[-3000:])
    assert result["heavy"] == [], f"the GUI process imported {result['heavy']}"
    # pyqtgraph (and numpy under it) load when a plot is first needed, not before the window shows.
    assert result["at_show"] == [], f"imported before the window was shown: {result['at_show']}"
