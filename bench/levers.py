"""Each speed and memory lever of issue 9 measured alone against TuneDesk's default training step.

Every variant runs in a fresh process (so its peak memory is its own): the starter model loaded as TuneDesk
loads it (core/training/model_setup.py), the sample data encoded and packed as a run encodes it, then a few
warm-up steps and timed steps of TuneDesk's own loss (core/training/loss.py) with an AdamW step, as the
recipe takes them. Reported per variant: seconds per step, real tokens/s, the process's peak RSS, and the
loss of the last timed step (same batches for every variant, so a lever that changes the numbers shows).

    python bench/levers.py                    # every variant, 2 warm-up + 4 timed steps each
    python bench/levers.py --only default,eager --timed 2
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import ROOT, SAMPLE_DATA, bench_env, load_line, machine_line, print_table, today  # noqa: E402

# name: (what it changes, preset overrides, other knobs)
VARIANTS: dict[str, tuple[str, dict, dict]] = {
    "default": ("TuneDesk's step: bf16 base + autocast, all-linear r16, packed rows, SDPA", {}, {}),
    "fp32": ("everything fp32 (no autocast, fp32 base)", {"precision": "fp32"}, {}),
    "eager": ("attention written out (eager) instead of SDPA", {}, {"attn": "eager"}),
    "compile": ("torch.compile of the model (inductor)", {}, {"compile": True}),
    "ckpt": ("gradient checkpointing on", {"gradient_checkpointing": True}, {}),
    "attention-only": ("LoRA on q/k/v/o only", {"target_modules": "attention"}, {}),
    "unpacked": ("one example per row, padded (no packing)", {"packing": False}, {}),
    "1-thread": ("torch on one thread", {}, {"threads": 1}),
    "full-head": ("LM head over every position (not only labelled ones)", {}, {"full_head": True}),
    "arena-2": (
        "glibc malloc limited to 2 arenas (MALLOC_ARENA_MAX=2)",
        {},
        {"env": {"MALLOC_ARENA_MAX": "2"}},
    ),
}


def one(name: str, warmup: int, timed: int, batch: int, seq_len: int) -> dict:
    """Runs in the child process: build the variant, take the steps, return the figures."""
    import torch

    from tunedesk.core.data.encode import encode_records
    from tunedesk.core.data.loader import load_dataset
    from tunedesk.core.data.packing import pack_examples
    from tunedesk.core.models.cache import materialize
    from tunedesk.core.models.source import resolve_model
    from tunedesk.core.presets.preset import Preset
    from tunedesk.core.training import loss as loss_mod
    from tunedesk.core.training.batching import collate
    from tunedesk.core.training.model_setup import load_model, load_padded_tokenizer, pick_precision

    _, overrides, knobs = VARIANTS[name]
    if knobs.get("threads"):
        torch.set_num_threads(knobs["threads"])
    preset = replace(
        Preset(), method="lora", precision="bf16", seq_len=seq_len, batch_size=batch, lora_r=16,
        target_modules="all-linear", gradient_checkpointing=False, packing=True,
    )  # fmt: skip
    preset = replace(preset, **overrides)
    folder = Path(materialize(resolve_model("starter"), lambda *_: None))
    tok = load_padded_tokenizer(folder)
    precision = pick_precision(preset, "cpu")
    model = load_model(folder, preset, precision)
    if knobs.get("attn"):
        model.set_attn_implementation(knobs["attn"])
    model.train()
    loss_fn = loss_mod.LossFunction(model, preset.method)
    if knobs.get("full_head"):
        loss_fn.body = loss_fn.head = None
    if knobs.get("compile"):
        t0 = time.perf_counter()
        loss_fn.body = torch.compile(loss_fn.body) if loss_fn.body is not None else None
        compile_wait = time.perf_counter() - t0
    records = load_dataset(SAMPLE_DATA).records
    examples = [ex for ex in encode_records(records, tok, seq_len).examples if ex.supervised_tokens > 0]
    if preset.packing:
        examples = pack_examples(examples, seq_len)
    need = (warmup + timed) * batch
    examples = (examples * (need // len(examples) + 1))[:need]
    batches = [collate(examples[i : i + batch], tok.pad_token_id) for i in range(0, need, batch)]
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    times, tokens, last = [], 0, 0.0
    for i, b in enumerate(batches):
        t0 = time.perf_counter()
        with loss_mod.autocast(precision):
            total, n = loss_fn(b)
            loss = total / max(n, 1)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
            tokens += b.real_tokens
        last = float(loss)
    out = {
        "s_per_step": sum(times) / len(times),
        "tok_s": tokens / sum(times),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "loss": last,
        "threads": torch.get_num_threads(),
    }
    if knobs.get("compile"):
        out["compile_note"] = f"compile call {compile_wait:.1f} s (graphs built in the warm-up steps)"
    return out


def run_variant(name: str, args) -> dict:
    env = bench_env()
    env.update(VARIANTS[name][2].get("env", {}))
    cmd = [sys.executable, __file__, "--child", name, "--warmup", str(args.warmup), "--timed", str(args.timed),
           "--batch", str(args.batch), "--seq-len", str(args.seq_len)]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {
            "error": (proc.stderr.strip().splitlines() or ["?"])[-1][:120],
            "wall_s": time.perf_counter() - t0,
        }
    res = json.loads(lines[-1])
    res["wall_s"] = time.perf_counter() - t0
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(VARIANTS))
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--timed", type=int, default=4)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq-len", type=int, default=192)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one(args.child, args.warmup, args.timed, args.batch, args.seq_len)), flush=True)
        return

    names = [n for n in args.only.split(",") if n]
    results = {}
    for name in names:
        print(f"[{name}] {load_line()}", flush=True)
        results[name] = run_variant(name, args)
        print(f"[{name}] {results[name]}", flush=True)
    base = results.get("default", {})
    rows = []
    for name in names:
        r = results[name]
        if "error" in r:
            rows.append((name, VARIANTS[name][0], "failed: " + r["error"], "", "", "", "", ""))
            continue
        speed = f"{r['tok_s'] / base['tok_s']:.2f}x" if base.get("tok_s") else ""
        mem = f"{r['peak_rss_mb'] / base['peak_rss_mb']:.2f}x" if base.get("peak_rss_mb") else ""
        rows.append((
            name, VARIANTS[name][0] + (f"; {r['compile_note']}" if r.get("compile_note") else ""),
            f"{r['s_per_step']:.2f}", f"{r['tok_s']:.0f}", speed, f"{r['peak_rss_mb'] / 1024:.2f}", mem,
            f"{r['loss']:.4f}",
        ))  # fmt: skip
    print(
        f"\n## bench/levers.py, {today()}: starter, batch {args.batch} x seq_len {args.seq_len}, "
        f"{args.warmup} warm-up + {args.timed} timed steps per variant, each in a fresh process"
    )
    print(machine_line())
    print(load_line() + " (end)")
    print_table(rows, ("variant", "what changes", "s/step", "tokens/s", "vs default", "peak RSS GB",
                       "vs default", "loss at last step"))  # fmt: skip


if __name__ == "__main__":  # children get this checkout's code through bench_env()
    started = time.time()
    main()
    if "--child" not in sys.argv:
        print(f"(bench took {time.time() - started:.0f} s)")
