"""Time to quality: a default run on a 400-row task, as a user starts it, until it stops by itself; and what it
learned, scored on tickets it never saw.

The task is the sample data's generator (resources/sample_data/make_support_summaries.py) at 400 rows; held-out
tickets come from the same generator with another seed. `tunedesk train` runs with no settings at all (the
preset chosen for this machine, model and data; its validation cadence and plateau stop). Then the best
adapter answers the held-out tickets greedily (transformers + peft in this process): an answer counts when its
category and urgency both match the ticket's; the line's exact form is counted too. The base model is scored
the same way. Printed last: wall time, how the run ended and at which step, the time spent validating, best
validation loss, and the scores.

    python bench/time_to_quality.py [--rows 400] [--held-out 40] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import (  # noqa: E402
    ROOT,
    bench_env,
    load_line,
    machine_line,
    print_table,
    read_events,
    run_measured,
    today,
    validating_seconds,
)

GENERATOR = ROOT / "resources" / "sample_data" / "make_support_summaries.py"
LINE = re.compile(r"^\[(?P<category>[A-Z]+)\] .+ \| urgency: (?P<urgency>\w+) \| next: .+$")


def make_data(path: Path, rows: int, seed: int) -> list[dict]:
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(path), "--rows", str(rows), "--seed", str(seed)],
                   check=True, capture_output=True)  # fmt: skip
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def score(answers: list[str], expected: list[str]) -> tuple[float, float]:
    """(share with the right category and urgency, share in the exact line form)."""
    right = exact = 0
    for got, want in zip(answers, expected, strict=True):
        g, w = LINE.match(got.strip()), LINE.match(want)
        if g:
            exact += 1
        if g and w and g["category"] == w["category"] and g["urgency"] == w["urgency"]:
            right += 1
    return right / len(expected), exact / len(expected)


def answer(model_dir: Path, adapter: Path | None, rows: list[dict], max_new_tokens: int = 48) -> list[str]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter)
    model.eval()
    out = []
    for i in range(0, len(rows), 8):
        prompts = [
            tok.apply_chat_template(r["messages"][:-1], tokenize=False, add_generation_prompt=True)
            for r in rows[i : i + 8]
        ]
        batch = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            gen = model.generate(
                **batch, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id
            )
        out += tok.batch_decode(gen[:, batch["input_ids"].shape[1] :], skip_special_tokens=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--held-out", type=int, default=40)
    ap.add_argument("--model", default="starter")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tunedesk-bench-ttq-"))
    data = work / "tickets.jsonl"
    make_data(data, args.rows, seed=400)
    held = make_data(work / "held-out.jsonl", args.held_out, seed=777)
    run_dir = work / "run"
    cmd = [sys.executable, "-m", "tunedesk.cli.main", "train", "--model", args.model, "--data", str(data),
           "--out", str(run_dir), "--json"]  # fmt: skip
    for item in args.set:
        cmd += ["--set", item]
    start_load = load_line()
    print(f"[train] {start_load}: {' '.join(cmd[3:])}", flush=True)
    res = run_measured(cmd, bench_env(), work / "train.log")
    events = read_events(run_dir)
    finished = next((e for e in events if e["event"] == "finished"), {})
    if res["rc"] != 0 or not finished:
        raise SystemExit("the run failed:\n" + (work / "train.log").read_text()[-2000:])
    steps = [e for e in events if e["event"] == "step"]
    evals = [e for e in events if e["event"] == "eval"]
    started = next(e for e in events if e["event"] == "started")
    validating = validating_seconds(events)
    rehearsal = [e["t"] for e in events if e["event"] == "log" and e.get("stage") == "general_answers"]
    rehearsal_s = rehearsal[-1] - rehearsal[0] if len(rehearsal) > 1 else 0.0
    best_loss = min((e["val_loss"] for e in evals if e.get("val_loss") is not None), default=None)

    sys.path.insert(0, str(ROOT / "desktop"))
    from tunedesk.core.models.cache import materialize
    from tunedesk.core.models.source import resolve_model

    model_dir = materialize(resolve_model(args.model), lambda *_: None)
    adapter = run_dir / "best" if (run_dir / "best" / "adapter_config.json").exists() else run_dir / "adapter"
    expected = [r["messages"][-1]["content"] for r in held]
    t0 = time.perf_counter()
    tuned = score(answer(model_dir, adapter, held), expected)
    base = score(answer(model_dir, None, held), expected)
    scoring_s = time.perf_counter() - t0
    preset = json.loads((run_dir / "config.json").read_text())["preset"]
    print(f"\n## bench/time_to_quality.py, {today()}: {args.model}, {args.rows} rows, default preset")
    print(machine_line())
    print(f"{start_load} (start); {load_line()} (end)")
    print(f"preset: {preset['name']}, {preset['precision']}, {preset['target_modules']} r{preset['lora_r']}, "
          f"batch {preset['batch_size']}x{preset['grad_accum']}, seq_len {preset['seq_len']}, "
          f"epochs {preset['epochs']}, planned steps {started.get('total_steps')}; "
          f"general rows {started.get('general_examples')}")  # fmt: skip
    print(
        f"ended: {finished.get('status')} at step {steps[-1]['step'] if steps else 0}: {finished.get('stop_reason') or ''}"
    )
    print_table(
        [("wall time (command start to end)", f"{res['wall_s']:.0f} s ({res['wall_s'] / 60:.1f} min)"),
         ("steps trained / planned", f"{steps[-1]['step'] if steps else 0} / {started.get('total_steps')}"),
         ("validating", f"{validating:.0f} s ({validating / res['wall_s']:.0%} of the run), {len(evals)} checks"),
         ("the base model answering general prompts (first run only, cached after)", f"{rehearsal_s:.0f} s"),
         ("best validation loss", "-" if best_loss is None else f"{best_loss:.4f}"),
         ("tokens/s (training steps)", f"{steps[-1]['tokens_per_second']:.0f}" if steps else "-"),
         ("peak RSS, process tree", f"{res['peak_rss_mb'] / 1024:.2f} GB"),
         ("held-out tickets right (category + urgency), tuned / base", f"{tuned[0]:.0%} / {base[0]:.0%}"),
         ("held-out answers in the exact line form, tuned / base", f"{tuned[1]:.0%} / {base[1]:.0%}")],
        (f"default run, {args.rows}-row task", ""),
    )  # fmt: skip
    print(f"(scoring took {scoring_s:.0f} s; run folder {run_dir})")


if __name__ == "__main__":
    main()
