"""Chat speed: TuneDesk's engine against llama.cpp alone and against transformers' generate, same prompts.

    python bench/chat.py [--tokens 128] [--prompts 3]

The starter model at q8_0 and q4_k_m (made here from its de-quantized copy: converted to f16 GGUF, then
quantized, as an export does) answers the same held-out questions greedily:
- TuneDesk: `ChatEngine.stream` (the Chat page's engine: template, history, stop handling);
- llama.cpp alone: `llama_cpp.Llama.create_completion` on the prompt the engine rendered, no engine around it;
- transformers: `generate` on the de-quantized model (the same weights before quantization), fp32 on a CPU.
Each row: generation tokens/s (after the first token) and time to first token, medians over the prompts.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import ROOT, SAMPLE_DATA, load_line, machine_line, print_table, today  # noqa: E402

sys.path.insert(0, str(ROOT / "desktop"))


def prompts(n: int) -> list[str]:
    rows = [json.loads(line) for line in SAMPLE_DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    users = [next(m["content"] for m in r["messages"] if m["role"] == "user") for r in rows[-n:]]
    return users


def make_ggufs(folder: Path) -> tuple[Path, dict[str, Path]]:
    """The starter's de-quantized folder and GGUF files of it at q8_0 and q4_k_m."""
    from tunedesk.core.export.convert import convert_to_gguf
    from tunedesk.core.export.quantize import quantize_gguf
    from tunedesk.core.models.cache import materialize
    from tunedesk.core.models.source import resolve_model

    hf = materialize(resolve_model("starter"), log=lambda m: None)
    f16 = convert_to_gguf(hf, folder / "starter-f16.gguf", log=lambda m: None)
    return hf, {q: quantize_gguf(f16, folder / f"starter-{q}.gguf", q) for q in ("q8_0", "q4_k_m")}


def engine_run(gguf: Path, questions: list[str], tokens: int, threads: int) -> tuple[list[dict], list[str]]:
    """TuneDesk's engine: stats per answer, and the prompts it rendered (for the other two)."""
    from tunedesk.core.chat import ChatEngine

    engine = ChatEngine(gguf, n_threads=threads, system_prompt="")
    stats, rendered = [], []
    for q in questions:
        engine.reset()
        # The text llama.cpp is given: the file's own chat template over the conversation.
        rendered.append(engine.render(engine.messages(q)) or q)
        for _ in engine.stream(q, temperature=0.0, max_tokens=tokens, seed=0):
            pass
        stats.append(engine.last_stats.to_dict())
    engine.llm.close()
    return stats, rendered


def llama_alone(gguf: Path, rendered: list[str], tokens: int, threads: int) -> list[dict]:
    from tunedesk.core.chat.llama_backends import llama_cpp_module

    llm = llama_cpp_module().Llama(
        model_path=str(gguf), n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False
    )
    out = []
    for text in rendered:
        llm.reset()
        t0 = time.perf_counter()
        first, n = None, 0
        for _ in llm.create_completion(text, max_tokens=tokens, temperature=0.0, stream=True):
            n += 1
            if first is None:
                first = time.perf_counter()
        end = time.perf_counter()
        out.append(_stats(t0, first, end, n))
    llm.close()
    return out


def transformers_generate(hf: Path, rendered: list[str], tokens: int, threads: int) -> list[dict]:
    """Greedy generate on the de-quantized model: the first token timed alone (prefill + one step), then the
    whole answer; tokens/s counts the tokens after the first."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(threads)
    tok = AutoTokenizer.from_pretrained(hf)
    model = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32).eval()
    out = []
    with torch.inference_mode():
        for text in rendered:
            ids = tok(text, return_tensors="pt", add_special_tokens=False)
            t0 = time.perf_counter()
            model.generate(**ids, max_new_tokens=1, do_sample=False)
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            seq = model.generate(**ids, max_new_tokens=tokens, do_sample=False)
            whole = time.perf_counter() - t0
            n = int(seq.shape[1] - ids["input_ids"].shape[1])
            rate = (n - 1) / (whole - first) if n > 1 and whole > first else None
            out.append({"time_to_first_token": first, "tokens": n, "tokens_per_second": rate})
    return out


def _stats(t0: float, first: float | None, end: float, n: int) -> dict:
    first = first or end
    gen = end - first
    return {
        "time_to_first_token": first - t0,
        "tokens": n,
        "tokens_per_second": (n - 1) / gen if n > 1 and gen > 0 else None,
    }


def median(rows: list[dict], key: str) -> float:
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--prompts", type=int, default=3)
    args = parser.parse_args()
    from tunedesk.core.chat.llama_load import physical_cores
    from tunedesk.core.offline import enforce_offline

    enforce_offline()
    threads = physical_cores()
    questions = prompts(args.prompts)
    print(
        f"# Chat, {today()}\n{machine_line()}\n{load_line()}; {threads} threads, {args.tokens} tokens max\n"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        hf, files = make_ggufs(Path(tmp))
        rendered: list[str] = []
        for quant, gguf in files.items():
            engine, rendered = engine_run(gguf, questions, args.tokens, threads)
            alone = llama_alone(gguf, rendered, args.tokens, threads)
            for who, stats in (("TuneDesk engine", engine), ("llama.cpp alone", alone)):
                rows.append((who, quant, f"{median(stats, 'tokens_per_second'):.0f}",
                             f"{1000 * median(stats, 'time_to_first_token'):.0f}"))  # fmt: skip
        hf_stats = transformers_generate(hf, rendered, args.tokens, threads)
        rows.append(("transformers generate", "fp32 (de-quantized)",
                     f"{median(hf_stats, 'tokens_per_second'):.0f}",
                     f"{1000 * median(hf_stats, 'time_to_first_token'):.0f}"))  # fmt: skip
    print_table(rows, ("engine", "weights", "tokens/s", "first token ms"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
