"""Export, stage by stage: how long merge, convert, quantize and the verification take, and the peak memory.

    python bench/export.py [RUN_DIR] [--quants q8_0 q4_k_m]

Without RUN_DIR it first trains the starter model for 5 steps on the sample data (the real `tunedesk train`)
in a temporary folder. Each export is the real `tunedesk export` (worker subprocess, llama.cpp's converter);
its stages' times come from the export's own events (RUN_DIR/export/events.jsonl).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import ROOT, SAMPLE_DATA, load_line, machine_line, print_table, run_measured, today  # noqa: E402

sys.path.insert(0, str(ROOT / "desktop"))
STAGES = ("merge", "convert", "quantize", "verify", "base")


def train_short_run(folder: Path) -> Path:
    run = folder / "run"
    cmd = [sys.executable, "-m", "tunedesk", "train", "--model", "starter", "--data", str(SAMPLE_DATA),
           "--set", "max_steps=5", "--out", str(run), "--json"]  # fmt: skip
    result = run_measured(cmd, log=folder / "train.log")
    if result["rc"] != 0:
        raise SystemExit(f"training failed: see {folder / 'train.log'}")
    return run


def stage_seconds(events: list[dict]) -> dict[str, float]:
    """Seconds from each stage's first event to its `done`."""
    started: dict[str, float] = {}
    took: dict[str, float] = {}
    for e in events:
        if e.get("event") != "stage":
            continue
        started.setdefault(e["stage"], e["t"])
        if e.get("status") == "done":
            took[e["stage"]] = e["t"] - started[e["stage"]]
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", nargs="?", type=Path)
    parser.add_argument("--quants", nargs="+", default=["q8_0", "q4_k_m"])
    args = parser.parse_args()
    from tunedesk.core.protocol import read_events

    print(f"# Export, {today()}\n{machine_line()}\n{load_line()}\n")
    with tempfile.TemporaryDirectory() as tmp:
        run = args.run_dir or train_short_run(Path(tmp))
        log = run / "export" / "events.jsonl"
        rows = []
        for quant in args.quants:
            seen = len(read_events(log))
            cmd = [sys.executable, "-m", "tunedesk", "export", str(run), "--quant", quant, "--json"]
            result = run_measured(cmd, log=Path(tmp) / f"export-{quant}.log")
            events = read_events(log)[seen:]
            finished = next((e for e in reversed(events) if e["event"] == "finished"), {})
            took = stage_seconds(events)
            passed = (finished.get("verification") or {}).get("passed")
            rows.append((quant, *(f"{took[s]:.1f}" if s in took else "-" for s in STAGES),
                         f"{result['wall_s']:.1f}", f"{result['peak_rss_mb'] / 1024:.1f}",
                         finished.get("status", f"exit {result['rc']}"), "yes" if passed else "no"))  # fmt: skip
    print_table(rows, ("quant", *STAGES, "total s", "peak GB", "status", "verified"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
