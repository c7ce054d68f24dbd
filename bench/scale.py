"""Training cost and peak memory against model size and sequence length, and the memory estimate against both.

Random-initialised models of the starter's family (SmolLM2 shapes: about 135M, 360M and 1.7B parameters, the
starter's real tokenizer) train a few steps each through `tunedesk train` (CLI + worker, as a user runs it)
with the same batch, rank and settings; then the 135M shape at several sequence lengths. Random weights cost
the same per step as trained ones, and no model hub is needed. For each: seconds per step, tokens/s, the
worker's own peak RSS (what core/presets/memory.py estimates) and the whole process tree's, and the estimate
with its error. The table is printed last.

    python bench/scale.py                        # 135M, 360M, 1.7B at seq_len 256; 135M at 128/512/1024
    python bench/scale.py --sizes 135M --seq-lens 256 --steps 2   # quick
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
    print_table,
    run_measured,
    today,
)

# The SmolLM2 family's shapes (their config.json files): hidden, intermediate, layers, heads, kv heads.
SHAPES = {
    "135M": (576, 1536, 30, 9, 3),
    "360M": (960, 2560, 32, 15, 5),
    "1.7B": (2048, 8192, 24, 32, 32),
}


def starter_tokenizer():
    sys.path.insert(0, str(ROOT / "desktop"))
    from transformers import AutoTokenizer

    from tunedesk.core.vendor import starter_gguf

    gguf = starter_gguf()
    if gguf is None:
        raise SystemExit("the starter model is not installed: run `python3 -m tunedesk setup` first")
    return AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)


def random_model(size: str, tok, out: Path) -> Path:
    """A random-initialised model of that shape, bf16 safetensors (as such models ship), with the tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    hidden, inter, layers, heads, kv = SHAPES[size]
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=kv, max_position_embeddings=8192, rope_theta=100000.0,
        tie_word_embeddings=True, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id, torch_dtype="bfloat16",
    )  # fmt: skip
    torch.manual_seed(0)
    with torch.device("cpu"):
        model = LlamaForCausalLM(config).to(torch.bfloat16)
    folder = out / f"random-{size}"
    model.save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    del model
    return folder


def estimate_mb(model_dir: Path, preset: dict) -> tuple[float, int]:
    from tunedesk.core.models.info import model_info
    from tunedesk.core.models.source import resolve_model
    from tunedesk.core.presets.memory import estimate_memory
    from tunedesk.core.presets.preset import Preset

    info = model_info(resolve_model(str(model_dir)))
    est = estimate_memory(info, Preset.from_dict(preset), "cpu", None)
    return est.total_mb, info.params


def train(model_dir: Path, args, seq_len: int, work: Path, label: str) -> dict:
    run_dir = work / f"run-{label}"
    cmd = [sys.executable, "-m", "tunedesk.cli.main", "train", "--model", str(model_dir), "--data", args.data,
           "--max-steps", str(args.steps), "--out", str(run_dir), "--json",
           "--set", f"seq_len={seq_len}", "--set", f"batch_size={args.batch}", "--set", "grad_accum=1",
           "--set", f"lora_r={args.rank}", "--set", "gradient_checkpointing=false",
           "--set", "general_data_fraction=0", "--set", "sample_prompts=0", "--set", "val_max=8",
           "--set", f"eval_every={args.steps}", "--set", "packing=true"]  # fmt: skip
    print(f"[{label}] {load_line()}", flush=True)
    res = run_measured(cmd, bench_env(), work / f"{label}.log")
    path = run_dir / "events.jsonl"
    events = [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []
    steps = [e for e in events if e["event"] == "step"]
    if res["rc"] != 0 or not steps:
        raise SystemExit(
            f"[{label}] failed (exit {res['rc']}):\n" + (work / f"{label}.log").read_text()[-1500:]
        )
    preset = json.loads((run_dir / "config.json").read_text())["preset"]
    # The first step pays one-off costs (allocations, kernels chosen): later steps are the steady cost.
    later = steps[1:] or steps
    step_s = (later[-1]["elapsed"] - (steps[0]["elapsed"] if len(steps) > 1 else 0)) / len(later)
    tokens = (later[-1]["trained_tokens"] - (steps[0]["trained_tokens"] if len(steps) > 1 else 0)) / len(
        later
    )
    est, params = estimate_mb(model_dir, preset)
    worker_peak = max(e.get("peak_memory_mb") or 0 for e in events)
    return {
        "label": label, "params": params, "seq_len": seq_len, "precision": preset["precision"],
        "s_per_step": step_s, "tok_s": tokens / step_s if step_s else 0.0,
        "worker_peak_mb": worker_peak, "tree_peak_mb": res["peak_rss_mb"], "estimate_mb": est,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="135M,360M,1.7B")
    ap.add_argument(
        "--seq-lens", default="128,512,1024", help="for the 135M shape (256 is in the size sweep)"
    )
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--data", default=str(SAMPLE_DATA))
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tunedesk-bench-scale-"))
    tok = starter_tokenizer()
    runs = []
    try:
        for size in [s for s in args.sizes.split(",") if s]:
            model = random_model(size, tok, work)
            runs.append(train(model, args, 256, work, f"{size} @256"))
            if size == "135M":
                for seq in [int(s) for s in args.seq_lens.split(",") if s]:
                    runs.append(train(model, args, seq, work, f"{size} @{seq}"))
            shutil.rmtree(model, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = []
    for r in runs:
        err = r["estimate_mb"] / r["worker_peak_mb"] - 1 if r["worker_peak_mb"] else float("nan")
        rows.append((
            r["label"], f"{r['params'] / 1e6:.0f}M", r["precision"], f"{r['s_per_step']:.2f}", f"{r['tok_s']:.0f}",
            f"{r['worker_peak_mb'] / 1024:.2f}", f"{r['tree_peak_mb'] / 1024:.2f}",
            f"{r['estimate_mb'] / 1024:.2f}", f"{err:+.0%}",
        ))  # fmt: skip
    print(
        f"\n## bench/scale.py, {today()}: {args.steps} steps, batch {args.batch}, LoRA r{args.rank} all-linear"
    )
    print(machine_line())
    print(load_line() + " (end)")
    print_table(rows, ("model @ seq_len", "params", "precision", "s/step", "tokens/s", "worker peak GB",
                       "tree peak GB", "estimate GB", "estimate error"))  # fmt: skip


if __name__ == "__main__":
    started = time.time()
    main()
    print(f"(bench took {time.time() - started:.0f} s)")
