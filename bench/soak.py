"""Soak test: one training run taken through many pause/resume, cancel, kill -9 and injected-crash cycles.

    PYTHONPATH=$PWD/desktop python3 bench/soak.py --cycles 40 --steps 120 [--seed 1] [--json out.json]

Builds the tiny test model (2 layers, hidden 64, the starter's tokenizer), then restarts the worker on the
same run folder again and again; each cycle waits for a random number of steps and then does one of:
pause+resume (same process), cancel (stdin), SIGTERM, kill -9 at a random moment, or an injected crash inside
a step, a checkpoint save or a validation check (TUNEDESK_FAULT). After every interruption it checks that the
next start resumes from the newest complete checkpoint (`steps lost` counts steps before that checkpoint that
had to be trained again: must be 0), and at the end that the per-step losses equal an uninterrupted run's.
Not a CI test: it takes minutes. Results go to bench/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "desktop"), str(REPO)]

from tests.e2e.train_helpers import make_run, of, read_until, run_worker, send, worker, write_chat_jsonl  # noqa: E402

from tunedesk.core.offline import enforce_offline  # noqa: E402
from tunedesk.core.paths import vendor_dir  # noqa: E402
from tunedesk.core.protocol import read_events  # noqa: E402
from tunedesk.core.runs import RunLayout  # noqa: E402
from tunedesk.core.training.checkpoints import valid_checkpoints  # noqa: E402

ACTIONS = (
    "pause",
    "cancel",
    "sigterm",
    "kill",
    "crash_in_step",
    "crash_in_checkpoint_save",
    "crash_in_validation",
)


def build_tiny_model(out: Path) -> Path:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from tunedesk.core.vendor import starter_gguf

    gguf = starter_gguf()
    if gguf is None:
        sys.exit("the starter model is not installed: run `tunedesk setup` first")
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=1024, tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    return out


def complete_steps(run: Path) -> list[int]:
    return [step for step, _ in valid_checkpoints(RunLayout(run))]


def one_cycle(run: Path, rng: random.Random, total: int, stats: dict, actions: list[str]) -> bool:
    """Start (or resume) the worker, interrupt it once; False when the run finished."""
    before = complete_steps(run)
    action = rng.choice(actions)
    env = None
    if action.startswith("crash_"):  # armed a few steps past the checkpoint this start resumes from
        at = (before[-1] if before else 0) + rng.randint(1, 4)
        if action != "crash_in_step":
            at += at % 2  # checks and saves happen every 2 steps
        env = {"TUNEDESK_FAULT": f"{action}:{min(at, total)}"}
    seen: list[dict] = []
    proc = worker(run, stdin=subprocess.PIPE, env=env)
    started = read_until(proc, lambda e: e["event"] == "started", seen)
    resumed_from = started["resumed_from_step"] or 0
    expected_from = before[-1] if before else 0
    if resumed_from != expected_from:
        stats["failures"].append(
            f"resumed from {resumed_from}, newest complete checkpoint was {expected_from}"
        )
    stats["steps_lost"] += max(0, expected_from - resumed_from)
    wait_steps = rng.randint(1, 5)
    try:
        if not action.startswith("crash_"):
            read_until(proc, lambda e: e["event"] == "step" and e["step"] >= resumed_from + wait_steps, seen)
            time.sleep(rng.uniform(0, 0.3))  # a random moment: in a step, a check or a save
        if action == "pause":
            send(proc, "pause")
            read_until(proc, lambda e: e["event"] in ("paused", "finished"), seen)
            send(proc, "resume")
            read_until(proc, lambda e: e["event"] in ("resumed", "finished"), seen)
            send(proc, "cancel")
            expected = 3
        elif action == "cancel":
            send(proc, "cancel")
            expected = 3
        elif action == "sigterm":
            proc.send_signal(signal.SIGTERM)
            expected = 3
        elif action == "kill":
            proc.kill()
            expected = -signal.SIGKILL
        else:
            expected = 137
    except (AssertionError, OSError):
        pass  # the worker ended before the awaited event or command: it finished (checked below)
    out, err = proc.communicate(timeout=600)
    seen += [json.loads(line) for line in out.splitlines() if line.strip()]
    finished = of(seen, "finished")
    done = bool(finished) and finished[-1]["status"] == "completed"
    if not done and proc.returncode != expected:
        stats["failures"].append(f"{action}: exit {proc.returncode}, expected {expected}: {err[-500:]}")
    if of(seen, "error"):
        stats["failures"].append(f"{action}: error event {of(seen, 'error')[0]['message']}")
    stats["actions"][action] = stats["actions"].get(action, 0) + 1
    stats["cycles"] += 1
    stats["steps_recomputed"] += max(0, max([e["step"] for e in of(seen, "step")], default=0) - resumed_from)
    return not done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=40)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--minutes", type=float, default=0, help="stop starting new cycles after this (0: no limit)"
    )
    parser.add_argument(
        "--actions", default=",".join(ACTIONS), help="comma-separated subset of: " + ", ".join(ACTIONS)
    )
    parser.add_argument("--json", default=None, help="write the summary here too")
    args = parser.parse_args()
    enforce_offline()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="tunedesk-soak-"))
    os.environ.setdefault("TUNEDESK_VENDOR", str(vendor_dir()))  # the starter's tokenizer, before HOME moves
    os.environ.setdefault("TUNEDESK_HOME", str(work / "home"))
    model = build_tiny_model(work / "tiny")
    data = write_chat_jsonl(work / "tickets.jsonl", n=96)
    settings = dict(
        max_steps=args.steps, eval_every=2, save_every=0, lora_dropout=0.3, sample_prompts=0, keep_checkpoints=3,
        early_stopping_patience=0, batch_size=2, grad_accum=2,
    )  # fmt: skip
    started = time.monotonic()
    reference = make_run(work / "reference", model, data, **settings)
    ref_code = run_worker(reference, timeout=3600)[0]
    stats: dict = {"cycles": 0, "steps_lost": 0, "steps_recomputed": 0, "failures": [], "actions": {}}
    run = make_run(work / "run", model, data, **settings)

    def time_left() -> bool:
        return not args.minutes or time.monotonic() - started < args.minutes * 60

    while (
        stats["cycles"] < args.cycles
        and time_left()
        and one_cycle(run, rng, args.steps, stats, args.actions.split(","))
    ):
        print(f"cycle {stats['cycles']}: newest checkpoint {complete_steps(run)[-1:]}", flush=True)
    final_code = run_worker(run, timeout=3600)[0]
    history = {e["step"]: e["loss"] for e in of(read_events(run / "events.jsonl"), "step")}
    expected = {e["step"]: e["loss"] for e in of(read_events(reference / "events.jsonl"), "step")}
    mismatched = [
        s for s in expected if abs(history.get(s, float("nan")) - expected[s]) > 1e-5 * abs(expected[s])
    ]
    if ref_code != 0 or final_code != 0:
        stats["failures"].append(f"reference exit {ref_code}, final exit {final_code}")
    if mismatched:
        stats["failures"].append(f"losses differ from the uninterrupted run at steps {mismatched[:10]}")
    stats.update(
        steps=args.steps,
        seed=args.seed,
        losses_match=not mismatched,
        minutes=round((time.monotonic() - started) / 60, 1),
    )
    print(json.dumps(stats, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(stats, indent=2))
    return 1 if stats["failures"] or stats["steps_lost"] else 0


if __name__ == "__main__":
    sys.exit(main())
