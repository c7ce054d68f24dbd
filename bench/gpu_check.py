"""The GPU paths on a real NVIDIA GPU, one table: the probe (CUDA, bf16, bitsandbytes 4-bit), a few steps each of
QLoRA, LoRA bf16 and LoRA fp16 (GradScaler) through the worker, kill -9 and resume on CUDA, the export of the
QLoRA run (the base reloaded unquantized for the merge; merged validation loss against the run's best), and
bench/train.py. On a machine without a CUDA GPU it says so and skips everything (exit 0).

    python bench/gpu_check.py [--steps 6] [--model starter]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import ROOT, SAMPLE_DATA, bench_env, load_line, print_table, run_measured, today  # noqa: E402


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tunedesk.cli.main", *args]


def events(run: Path) -> list[dict]:
    path = run / "events.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


def train(args, work: Path, name: str, sets: list[str], steps: int) -> tuple[str, dict]:
    run = work / name
    cmd = cli("train", "--model", args.model, "--data", str(SAMPLE_DATA), "--max-steps", str(steps),
              "--out", str(run), "--json", "--set", "sample_prompts=0")  # fmt: skip
    for s in sets:
        cmd += ["--set", s]
    res = run_measured(cmd, bench_env(), work / f"{name}.log")
    ev = events(run)
    fin = next((e for e in ev if e["event"] == "finished"), {})
    steps_ev = [e for e in ev if e["event"] == "step"]
    evals = [e["val_loss"] for e in ev if e["event"] == "eval" and e["step"] > 0]
    ok = res["rc"] == 0 and fin.get("status") in ("completed", "early_stopped")
    detail = {
        "tok_s": steps_ev[-1]["tokens_per_second"] if steps_ev else 0,
        "peak_gpu_mb": max((e.get("peak_memory_mb") or 0 for e in steps_ev), default=0),
        "best": fin.get("best_val_loss"),
        "last": evals[-1] if evals else None,
        "wall": res["wall_s"],
    }
    if not ok:
        detail["error"] = (work / f"{name}.log").read_text()[-400:].replace("\n", " ")
    return ("ok" if ok else "FAILED"), detail


def kill_and_resume(args, work: Path) -> tuple[str, str]:
    run = work / "killed"
    cmd = cli("train", "--model", args.model, "--data", str(SAMPLE_DATA), "--max-steps", "12", "--out", str(run),
              "--json", "--set", "save_every=2", "--set", "sample_prompts=0")  # fmt: skip
    proc = subprocess.Popen(cmd, env=bench_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    deadline = time.time() + 600
    while time.time() < deadline and not any(
        e["event"] == "checkpoint" and e["step"] >= 4 for e in events(run)
    ):
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker, as a crash would
    proc.wait()
    saved = max((e["step"] for e in events(run) if e["event"] == "checkpoint"), default=0)
    res = run_measured(cli("resume", str(run), "--json"), bench_env(), work / "resume.log")
    ev = events(run)
    started = [e for e in ev if e["event"] == "started"]
    fin = [e for e in ev if e["event"] == "finished"]
    ok = res["rc"] == 0 and fin and fin[-1]["status"] == "completed" and started[-1].get("resumed_from_step")
    return (
        "ok" if ok else "FAILED"
    ), f"killed after checkpoint {saved}, resumed from {started[-1].get('resumed_from_step')}"


def export(work: Path, run: Path) -> tuple[str, str]:
    res = run_measured(cli("export", str(run), "--json"), bench_env(), work / "export.log")
    verification = run / "export" / "verification.json"
    if res["rc"] != 0 or not verification.exists():
        return "FAILED", (work / "export.log").read_text()[-400:].replace("\n", " ")
    v = json.loads(verification.read_text())
    scalars = [f"{k} {x}" for k, x in v.items() if isinstance(x, (int, float, str, bool))][:8]
    return "ok", f"{res['wall_s']:.0f} s; " + ", ".join(scalars)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--model", default="starter")
    args = ap.parse_args()
    probe = subprocess.run([sys.executable, "-m", "tunedesk.worker", "probe"], env=bench_env(), capture_output=True,
                           text=True)  # fmt: skip
    info = json.loads(probe.stdout) if probe.returncode == 0 and probe.stdout.strip() else {}
    print(f"\n## bench/gpu_check.py, {today()}; {load_line()}")
    print(info.get("summary") or "(the hardware probe failed)")
    if not info.get("cuda"):
        print("SKIPPED: no CUDA GPU here (the probe found none); nothing on the GPU paths was run.")
        print_table([("probe", "skipped", "no CUDA GPU")], ("check", "result", "detail"))
        return
    gpu = info["cuda"][0]
    rows = [("probe", "ok", f"{gpu.get('name')}, compute {gpu.get('capability')}, bf16 {gpu.get('bf16')}, "
             f"bnb 4-bit {info.get('bnb_4bit')} {info.get('bnb_error') or ''}")]  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="tunedesk-gpu-check-"))
    variants = {
        "qlora": ["method=qlora", "precision=bf16"],
        "lora-bf16": ["method=lora", "precision=bf16"],
        "lora-fp16": ["method=lora", "precision=fp16"],
    }
    for name, sets in variants.items():
        result, d = train(args, work, name, sets, args.steps)
        rows.append((f"train {name} ({args.steps} steps)", result,
                     d.get("error") or f"{d['tok_s']:.0f} tok/s, peak {d['peak_gpu_mb']:.0f} MB, best val "
                     f"{d['best']}, {d['wall']:.0f} s"))  # fmt: skip
    rows.append(("kill -9 + resume (CUDA)", *kill_and_resume(args, work)))
    rows.append(("export of the QLoRA run", *export(work, work / "qlora")))
    bench = subprocess.run([sys.executable, str(ROOT / "bench" / "train.py"), "--steps", "16"], env=bench_env(),
                           capture_output=True, text=True)  # fmt: skip
    rows.append(("bench/train.py --steps 16", "ok" if bench.returncode == 0 else "FAILED", "table below"))
    print(f"run folders in {work}")
    print(bench.stdout[-3000:] if bench.returncode == 0 else bench.stderr[-1500:])
    print_table(rows, ("check", "result", "detail"))


if __name__ == "__main__":
    main()
