"""What every bench measures the same way: the machine line, the load, a process tree's peak memory and the
machine's matmul ceiling. Imported by the bench scripts (run them from the repository root)."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA = ROOT / "resources" / "sample_data" / "support_summaries.jsonl"


def bench_env() -> dict[str, str]:
    """The environment for child processes: this checkout's code first (not an installed copy)."""
    env = dict(os.environ)
    src = str(ROOT / "desktop")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1/5/15 min) on {os.cpu_count()} CPUs"


def machine_line() -> str:
    """The hardware probe's own description of this machine (run in a subprocess, as the app does)."""
    code = (
        "from tunedesk.core.hardware.probe import probe_in_process as p; i = p(benchmark=False); "
        "print(i.cpu_model or '?', '|', i.summary(), '| torch', i.torch)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=bench_env())
    return out.stdout.strip() or f"(probe failed: {out.stderr.strip()[-200:]})"


def today() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def matmul_ceiling(seconds: float = 1.5, size: int = 1024) -> dict[str, float]:
    """GFLOP/s of torch's matrix product on all threads (fp32 and bf16; on a GPU, that device), best call of
    each, interleaved so a burst of load does not fall on one dtype only."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    mats = {
        name: (torch.randn(size, size, device=device).to(dt), torch.randn(size, size, device=device).to(dt))
        for name, dt in (("fp32", torch.float32), ("bf16", torch.bfloat16))
    }
    best = dict.fromkeys(mats, float("inf"))
    for a, b in mats.values():
        torch.mm(a, b)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for name, (a, b) in mats.items():
            if device == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            torch.mm(a, b)
            if device == "cuda":
                torch.cuda.synchronize()
            best[name] = min(best[name], time.perf_counter() - t0)
    return {name: 2 * size**3 / t / 1e9 for name, t in best.items()}


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (psutil, else /proc)."""
    try:
        import psutil

        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20
    except ImportError:
        return _proc_tree_rss_mb(pid)
    except Exception:
        return 0.0


def _proc_tree_rss_mb(pid: int) -> float:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            pass
    return total / 2**20


class PeakMemory:
    """Polls a process tree's RSS in a thread while a child runs; `.peak_mb` after `stop()`."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        self.pid, self.every, self.peak_mb = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, tree_rss_mb(self.pid))
            self._stop.wait(self.every)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


def run_measured(cmd: list[str], env: dict[str, str] | None = None, log: Path | None = None) -> dict:
    """Run a command to its end; its wall time, exit code and the peak RSS of its process tree."""
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env or bench_env(), stdout=out, stderr=subprocess.STDOUT)
    peak = PeakMemory(proc.pid)
    rc = proc.wait()
    wall = time.perf_counter() - t0
    peak_mb = peak.stop()
    if log:
        out.close()
    return {"rc": rc, "wall_s": wall, "peak_rss_mb": peak_mb}


def read_events(run_dir: Path) -> list[dict]:
    """A run folder's events (an empty list when the run never started)."""
    import json

    path = run_dir / "events.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


def validating_seconds(events: list[dict]) -> float:
    """Time a run spent validating: from the event just before each check (its step, or the start) to the
    check itself."""
    validating, previous = 0.0, None
    for e in events:
        if e["event"] == "eval" and previous is not None:
            validating += e["t"] - previous["t"]
        if e["event"] in ("step", "started", "checkpoint"):
            previous = e
    return validating


def print_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """A markdown table (what RESULTS.md holds), printed and returned."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    text = "\n".join(lines)
    print(text, flush=True)
    return text
