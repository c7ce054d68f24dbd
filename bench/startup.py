"""Start-up: how long until the main window is shown, and how much of that is imports.

Starts the app offscreen in a fresh interpreter (`python -X importtime`), a few times; the child notes when its
event loop first runs after `window.show()`, and importtime's log says what the imports cost.

    python bench/startup.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import bench_env, load_line, machine_line, print_table, today  # noqa: E402

CHILD = """
import json, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(["tunedesk"])
def shown():
    visible = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    print(json.dumps({"shown": time.time(), "windows": len(visible)}), flush=True)
    app.quit()
QTimer.singleShot(0, shown)  # runs when the event loop starts, i.e. after main() showed the window
from tunedesk.ui.app import main
main([])
"""


def import_seconds(stderr: str) -> tuple[float, list[tuple[float, str]]]:
    """Sum of the top-level imports' cumulative times (importtime's lines whose name is not indented)."""
    top = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self, cumulative, name = line.split(":", 1)[1].split("|")
        if not name.startswith(" ") or name.startswith("  "):
            continue  # nested import: counted in its parent
        top.append((int(cumulative) / 1e6, name.strip()))
    return sum(t for t, _ in top), sorted(top, reverse=True)[:5]


def one_start() -> dict:
    env = bench_env()
    env["QT_QPA_PLATFORM"] = "offscreen"
    with tempfile.TemporaryDirectory() as home:
        env["XDG_CONFIG_HOME"] = home  # the app's settings of this start, not the user's
        t0 = time.time()
        out = subprocess.run([sys.executable, "-X", "importtime", "-c", CHILD], env=env, capture_output=True,
                             text=True, timeout=300)  # fmt: skip
    lines = [x for x in out.stdout.splitlines() if x.startswith("{")]
    if not lines:
        raise SystemExit("the app did not show its window:\n" + out.stderr[-2000:])
    shown = json.loads(lines[-1])
    imports, heaviest = import_seconds(out.stderr)
    return {"window_s": shown["shown"] - t0, "imports_s": imports, "heaviest": heaviest}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    loads = [load_line()]
    one_start()  # warm the file cache: a user's second start is the usual one
    runs = [one_start() for _ in range(args.runs)]
    loads.append(load_line())
    window = statistics.median(r["window_s"] for r in runs)
    imports = statistics.median(r["imports_s"] for r in runs)
    print(f"\n## bench/startup.py, {today()} ({args.runs} starts after one warm-up, median)")
    print(machine_line())
    print("; ".join(loads) + "  (start; end)")
    print(
        "heaviest top-level imports (last start): "
        + ", ".join(f"{n} {t:.2f} s" for t, n in runs[-1]["heaviest"])
    )
    print_table(
        [("window shown (process start to event loop)", f"{window:.2f} s"),
         ("of which imports", f"{imports:.2f} s ({imports / window:.0%})"),
         ("range of window times", f"{min(r['window_s'] for r in runs):.2f}-{max(r['window_s'] for r in runs):.2f} s")],
        ("start-up", ""),
    )  # fmt: skip
    torch_loaded = "torch" in " ".join(n for r in runs for _, n in r["heaviest"])
    if torch_loaded:
        print("WARNING: torch was imported at start-up")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "0")
    main()
