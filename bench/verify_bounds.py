"""Measure the teacher-forced verification numbers of one trained run at every quantization.

    PYTHONPATH=desktop python3 bench/verify_bounds.py RUN_DIR [RUN_DIR ...]

Merges the run (or reuses RUN_DIR/export/merged), converts it to an f16 GGUF, quantizes it to each type and
prints one markdown row per (run, quant): KL divergence, top-1 agreement, perplexity ratio, and the bounds in
quants.py. The bounds were set from these rows (docs/verification.md); rerun after changing the measures.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tunedesk.core.export.convert import convert_to_gguf
from tunedesk.core.export.merge import merge_run
from tunedesk.core.export.pipeline import plan_export
from tunedesk.core.export.quantize import quantize_gguf
from tunedesk.core.export.quants import QUANT_NAMES, get_quant
from tunedesk.core.export.teacher_forced import Sequence, compare, gguf_log_probs
from tunedesk.core.export.verify import cached_reference
from tunedesk.core.offline import enforce_offline


def measure(run_dir: Path, extra: list[Path]) -> None:
    plan = plan_export(run_dir, quant="f16")
    if not plan.reuse_merged:
        merge_run(plan.layout, plan.config, plan.choice, plan.base_dir, plan.merged, log=lambda m: None)
    cache = plan.out_dir / ".work"
    cache.mkdir(parents=True, exist_ok=True)
    ref, merged_lp = cached_reference(plan.merged, plan.layout.data / "val.jsonl", 8, 64, cache)
    seqs = [Sequence(**s) for s in ref["sequences"]]
    with tempfile.TemporaryDirectory() as tmp:
        f16 = Path(tmp) / "f16.gguf"
        convert_to_gguf(plan.merged, f16, log=lambda m: None)
        files = {"f16": f16}
        for q in QUANT_NAMES[1:]:
            files[q] = quantize_gguf(f16, Path(tmp) / f"{q}.gguf", q)
        files.update({f"other:{p.name}": p for p in extra})
        for name, path in files.items():
            c = compare(seqs, merged_lp, gguf_log_probs(path, seqs))
            b = get_quant(name) if name in QUANT_NAMES else None
            bounds = f"{b.max_kl} / {b.min_top1:.0%} / x{b.max_ppl_ratio}" if b else "-"
            print(
                f"| {run_dir.name} | {name} | {c.tokens} | {c.mean_kl:.4f} | {c.top1_agreement:.1%} | "
                f"{c.perplexity_merged:.3f} | {c.perplexity_gguf:.3f} | x{c.ppl_ratio:.3f} | {bounds} |",
                flush=True,
            )


if __name__ == "__main__":
    enforce_offline()
    args = [Path(a) for a in sys.argv[1:]]
    others = [a for a in args if a.suffix == ".gguf"]
    print(
        "| run | file | tokens | mean KL | top-1 | ppl merged | ppl gguf | ratio | bounds (KL / top-1 / ratio) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for run in (a for a in args if a.suffix != ".gguf"):
        measure(run, others)
