"""TuneDesk's training against the usual recipe and against the machine's own matmul ceiling.

The same model, data, sequence length, LoRA rank, batch (examples per update) and steps go through
(a) TuneDesk: `tunedesk train` (CLI + worker subprocess) with the preset it chooses here; numbers read back
    from the run's events, and
(b) the usual recipe (bench/usual_recipe.py: Trainer + peft, q/k/v/o LoRA, batch 8, dynamic padding, fp32) on
    the very rows TuneDesk's run split off, scored on the same validation rows.
Reported for each: real tokens/s (padding excluded) over training steps and over the whole run as the user
waits for it, seconds per step, the time spent validating, peak RSS of the process tree, validation loss after
the same steps; then the ratios and the share of the machine's best matmul throughput (measured in this run;
a LoRA step costs about 4 x parameters FLOPs per token). The table is printed last.

    python bench/train.py                       # starter model, sample data, 16 steps
    python bench/train.py --steps 8 --set precision=fp32 --compare-src /tmp/before/desktop
`--compare-src` also runs TuneDesk from another checkout's desktop/ folder (with resources/ beside it:
`git archive REV desktop resources | tar -x -C DIR`), back to back (before/after).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import (  # noqa: E402
    ROOT,
    SAMPLE_DATA,
    bench_env,
    load_line,
    machine_line,
    matmul_ceiling,
    print_table,
    read_events,
    run_measured,
    today,
    validating_seconds,
)


def tunedesk_run(args, work: Path, label: str, src: Path) -> dict:
    run_dir = work / f"run-{label}"
    cmd = [sys.executable, "-m", "tunedesk.cli.main", "train", "--model", args.model, "--data", args.data,
           "--max-steps", str(args.steps), "--out", str(run_dir), "--json"]  # fmt: skip
    for item in args.set:
        cmd += ["--set", item]
    env = bench_env()
    env["PYTHONPATH"] = str(src)
    print(f"[{label}] {load_line()}: tunedesk train ({src})", flush=True)
    res = run_measured(cmd, env, work / f"{label}.log")
    events = read_events(run_dir)
    steps = [e for e in events if e["event"] == "step"]
    evals = [e for e in events if e["event"] == "eval"]
    finished = next((e for e in events if e["event"] == "finished"), {})
    if res["rc"] != 0 or not steps:
        tail = (work / f"{label}.log").read_text()[-1500:]
        raise SystemExit(f"[{label}] tunedesk train failed (exit {res['rc']}):\n{tail}")
    preset = json.loads((run_dir / "config.json").read_text())["preset"]
    validating = validating_seconds(events)
    last = steps[-1]
    step_s = last["trained_tokens"] / last["tokens_per_second"] if last["tokens_per_second"] else 0.0
    started = next(e for e in events if e["event"] == "started")
    return {
        "label": label,
        "preset": preset,
        "steps": last["step"],
        "trained_tokens": last["trained_tokens"],
        "step_tok_s": last["tokens_per_second"],
        "s_per_step": step_s / last["step"],
        "run_tok_s": last["trained_tokens"] / res["wall_s"],
        "wall_s": res["wall_s"],
        "training_s": finished.get("elapsed"),
        "validating_s": validating,
        "evals": len(evals),
        "peak_rss_mb": res["peak_rss_mb"],
        "val_loss": evals[-1]["val_loss"] if evals else None,
        "status": finished.get("status"),
        "total_params": started.get("total_params"),
        "run_dir": run_dir,
    }


def recipe_run(args, work: Path, td: dict) -> dict:
    sys.path.insert(0, str(ROOT / "desktop"))
    from tunedesk.core.models.cache import materialize
    from tunedesk.core.models.source import resolve_model

    model_dir = materialize(resolve_model(args.model), lambda *_: None)
    p = td["preset"]
    out = work / "recipe.json"
    cmd = [sys.executable, str(ROOT / "bench" / "usual_recipe.py"), str(model_dir), str(td["run_dir"] / "data"),
           str(out), "--steps", str(args.steps), "--seq-len", str(p["seq_len"]), "--rank", str(p["lora_r"]),
           "--batch", str(p["batch_size"] * p["grad_accum"])]  # fmt: skip
    print(f"[recipe] {load_line()}: Trainer + peft", flush=True)
    res = run_measured(cmd, bench_env(), work / "recipe.log")
    if res["rc"] != 0:
        raise SystemExit("the usual recipe failed:\n" + (work / "recipe.log").read_text()[-1500:])
    r = json.loads(out.read_text())
    step_s = sum(r["step_seconds"])
    return {
        "label": "usual recipe",
        "steps": r["steps"],
        "trained_tokens": r["trained_tokens"],
        "step_tok_s": r["trained_tokens"] / step_s,
        "s_per_step": step_s / r["steps"],
        "run_tok_s": r["trained_tokens"] / res["wall_s"],
        "wall_s": res["wall_s"],
        "training_s": r["train_wall_s"],
        "validating_s": 0.0,
        "evals": 0,
        "peak_rss_mb": res["peak_rss_mb"],
        "val_loss": r["val_loss"],
        "status": "completed",
        "total_params": r["total_params"],
        "preset": {"precision": "fp32", "target_modules": "attention", "lora_r": p["lora_r"]},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="starter")
    ap.add_argument("--data", default=str(SAMPLE_DATA))
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="TuneDesk's side only")
    ap.add_argument("--compare-src", type=Path, help="also run TuneDesk from this desktop/ folder (before)")
    ap.add_argument("--no-recipe", action="store_true", help="TuneDesk only (for before/after of a lever)")
    ap.add_argument("--keep", action="store_true", help="keep the run folders (printed)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tunedesk-bench-train-"))
    loads = [load_line()]
    ceiling = matmul_ceiling()
    runs = []
    if args.compare_src:
        runs.append(tunedesk_run(args, work, "before", args.compare_src.resolve()))
    runs.append(tunedesk_run(args, work, "tunedesk", ROOT / "desktop"))
    td = runs[-1]
    if not args.no_recipe:
        runs.append(recipe_run(args, work, td))
    loads.append(load_line())
    after = matmul_ceiling()
    ceiling = {k: max(v, after[k]) for k, v in ceiling.items()}
    best = max(ceiling.values())

    rows = []
    for r in runs:
        p = r["preset"]
        flops = 4 * (r["total_params"] or 0) * r["step_tok_s"] / 1e9
        rows.append((
            r["label"], f"{p.get('precision')}, {p.get('target_modules')} r{p.get('lora_r')}",
            f"{r['step_tok_s']:.0f}", f"{r['run_tok_s']:.0f}", f"{r['s_per_step']:.2f}",
            f"{r['wall_s']:.0f} s ({r['validating_s']:.0f} s validating, {r['evals']} checks)",
            f"{r['peak_rss_mb'] / 1024:.2f} GB",
            "-" if r["val_loss"] is None else f"{r['val_loss']:.4f}",
            f"{flops / best:.0%}",
        ))  # fmt: skip
    if not args.no_recipe:
        base = runs[-1]
        ratio = td["step_tok_s"] / base["step_tok_s"]
        mem = td["peak_rss_mb"] / base["peak_rss_mb"]
        run_ratio = td["run_tok_s"] / base["run_tok_s"]
        rows.append(
            ("TuneDesk / recipe", "", f"{ratio:.2f}x", f"{run_ratio:.2f}x", "", "", f"{mem:.2f}x", "", "")
        )
    if args.keep:
        print("run folders in", work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n## bench/train.py, {today()}: {args.model}, {args.steps} steps, "
          f"seq_len {td['preset']['seq_len']}, {td['preset']['batch_size']}x{td['preset']['grad_accum']} per update")  # fmt: skip
    print(machine_line())
    print(
        f"matmul ceiling (all threads, best call): fp32 {ceiling['fp32']:.0f}, bf16 {ceiling['bf16']:.0f} GFLOP/s"
    )
    print("; ".join(loads) + "  (start; end)")
    print(f"validation share of the TuneDesk run: {td['validating_s'] / td['wall_s']:.0%} of its wall time")
    print_table(rows, ("", "how", "tokens/s steps", "tokens/s whole run", "s/step", "wall", "peak RSS tree",
                       "val loss", "of ceiling"))  # fmt: skip


if __name__ == "__main__":
    started = time.time()
    main()
    print(f"(bench took {time.time() - started:.0f} s)")
