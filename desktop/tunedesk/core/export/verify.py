"""Check a GGUF file before anyone is told it is ready.

Structural checks: the chat template is embedded and identical to the merged model's; the end-of-turn token
is the GGUF's EOS and llama.cpp treats it as end-of-generation; llama.cpp tokenizes prompts as the merged
model's tokenizer does. Behavioural checks, against the merged Hugging Face model on the run's held-out
prompts: greedy answers (exact-match rate, mean shared token prefix), whether answers stop at the end of the
turn, and perplexity of the reference answers. Quantization drifts a little; the limits (quants.py) catch
breakage: empty answers, answers that never stop, garbage (a perplexity far above the merged model's).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tunedesk.core.atomic import write_json_atomic
from tunedesk.core.chat.llama_load import load_llama
from tunedesk.core.export.quants import get_quant

Progress = Callable[[float, str], Any]


@dataclass
class Prompt:
    messages: list[dict[str, str]]  # what the model is asked
    full: list[dict[str, str]]  # with the reference answer (for perplexity)


@dataclass
class VerificationReport:
    passed: bool
    quant: str
    summary: dict[str, Any]  # flat: what the GUI shows
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_prompts(val_path: Path, n: int) -> list[Prompt]:
    """The first `n` chat rows of the run's held-out split that end with an assistant answer."""
    out: list[Prompt] = []
    if not val_path.is_file():
        return out
    with open(val_path, encoding="utf-8") as fh:
        for line in fh:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            msgs = row.get("messages") if isinstance(row, dict) else None
            if not msgs:
                continue
            last = max((i for i, m in enumerate(msgs) if m.get("role") == "assistant"), default=-1)
            if last <= 0:
                continue
            out.append(Prompt(msgs[:last], msgs[: last + 1]))
            if len(out) >= n:
                break
    return out


def _prefix_overlap(a: list[int], b: list[int]) -> float:
    if not a and not b:
        return 1.0
    same = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        same += 1
    return same / max(len(a), len(b))


def _span(tokenizer: Any, p: Prompt, eot_id: int) -> tuple[list[int], int, int]:
    """Token ids of the whole exchange, and the [start, end) range of the reference answer + end-of-turn."""
    prompt = tokenizer.apply_chat_template(p.messages, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(p.full, tokenize=False)
    ids = tokenizer(full, add_special_tokens=False)["input_ids"]
    start = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    end = ids.index(eot_id, start) + 1 if eot_id in ids[start:] else len(ids)
    return ids, start, end


def merged_reference(merged: Path, prompts: list[Prompt], max_tokens: int, ppl_rows: int) -> dict[str, Any]:
    """Greedy answers and perplexity of the merged (fp32) model: what the GGUF is compared against."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(merged)
    model = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32).eval()
    eot_id = model.generation_config.eos_token_id
    eot_id = eot_id[0] if isinstance(eot_id, list) else eot_id
    answers, stopped, prompt_ids, prompt_texts = [], [], [], []
    with torch.no_grad():
        for p in prompts:
            text = tok.apply_chat_template(p.messages, tokenize=False, add_generation_prompt=True)
            ids = tok(text, add_special_tokens=False)["input_ids"]
            prompt_ids.append(ids)
            prompt_texts.append(text)
            out = model.generate(
                input_ids=torch.tensor([ids]),
                attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                max_new_tokens=max_tokens,
                do_sample=False,
                eos_token_id=eot_id,
                pad_token_id=model.generation_config.pad_token_id,
            )[0][len(ids) :].tolist()
            stop = bool(out) and out[-1] == eot_id
            answers.append(tok.decode(out[:-1] if stop else out, skip_special_tokens=True).strip())
            stopped.append(stop)
        nll, count, spans = 0.0, 0, []
        for p in prompts[:ppl_rows]:
            ids, start, end = _span(tok, p, eot_id)
            spans.append([ids, start, end])
            logp = torch.log_softmax(model(torch.tensor([ids[:end]])).logits[0].float(), dim=-1)
            for pos in range(start, end):
                nll -= float(logp[pos - 1, ids[pos]])
                count += 1
    return {
        "answers": answers,
        "stopped": stopped,
        "prompt_ids": prompt_ids,
        "prompt_texts": prompt_texts,
        "spans": spans,
        "perplexity": math.exp(nll / count) if count else None,
        "eot_id": int(eot_id),
        "eot_token": tok.convert_ids_to_tokens(int(eot_id)),
        "chat_template": tok.chat_template,
    }


def cached_reference(
    merged: Path, prompts: list[Prompt], max_tokens: int, ppl_rows: int, cache: Path
) -> dict[str, Any]:
    """merged_reference, remembered per merged folder: exporting a second quantization skips the slow part."""
    src = merged / "tunedesk-merge.json"
    key = hashlib.sha256(
        json.dumps(
            [
                src.read_text() if src.is_file() else str(merged.stat().st_mtime),
                [asdict(p) for p in prompts],
                max_tokens,
                ppl_rows,
            ]
        ).encode()
    ).hexdigest()[:16]
    path = cache / f"reference-{key}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    ref = merged_reference(merged, prompts, max_tokens, ppl_rows)
    write_json_atomic(path, ref)
    return ref


def _gguf_perplexity(gguf: Path, spans: list[list[Any]]) -> float | None:
    import numpy as np

    if not spans:
        return None
    n_ctx = max(end for _ids, _s, end in spans) + 8
    llm = load_llama(gguf, n_ctx=n_ctx, logits_all=True)
    nll, count = 0.0, 0
    try:
        for ids, start, end in spans:
            llm.reset()
            llm.eval(ids[:end])
            logits = np.asarray(llm.scores[:end], dtype=np.float64)
            top = logits.max(axis=1, keepdims=True)
            logz = (top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True)))[:, 0]
            for pos in range(start, end):
                nll -= logits[pos - 1, ids[pos]] - logz[pos - 1]
                count += 1
    finally:
        llm.close()
    return math.exp(nll / count) if count else None


def verify_gguf(
    gguf: Path,
    merged: Path,
    val_path: Path,
    quant: str,
    *,
    cache: Path,
    n_prompts: int = 8,
    max_tokens: int = 64,
    ppl_rows: int = 4,
    progress: Progress | None = None,
) -> VerificationReport:
    import llama_cpp

    limits = get_quant(quant)
    say = progress or (lambda _f, _m: None)
    prompts = load_prompts(val_path, n_prompts)
    say(0.05, f"Answering {len(prompts)} held-out prompts with the merged model")
    ref = cached_reference(merged, prompts, max_tokens, ppl_rows, cache)
    failures: list[str] = []
    warnings: list[str] = []

    say(0.5, "Loading the GGUF file with llama.cpp")
    longest = max((len(ids) for ids in ref["prompt_ids"]), default=0)
    llm = load_llama(gguf, n_ctx=max(512, longest + max_tokens + 16))
    try:
        meta = llm.metadata
        template = meta.get("tokenizer.chat_template")
        template_ok = bool(template) and template == ref["chat_template"]
        if not template:
            failures.append("The GGUF file has no chat template (tokenizer.chat_template is missing).")
        elif not template_ok:
            failures.append("The GGUF's chat template differs from the merged model's.")
        eos = llm.token_eos()
        eot_ok = eos == ref["eot_id"] and llama_cpp.llama_vocab_is_eog(
            llama_cpp.llama_model_get_vocab(llm.model), eos
        )
        if not eot_ok:
            failures.append(
                f"The GGUF's end-of-sequence token ({eos}) is not the end-of-turn token {ref['eot_token']} "
                f"({ref['eot_id']}): answers would not stop."
            )
        same_tokens = [
            llm.tokenize(text.encode("utf-8"), add_bos=False, special=True) == ids
            for text, ids in zip(ref["prompt_texts"], ref["prompt_ids"], strict=True)
        ]
        tok_rate = sum(same_tokens) / len(same_tokens) if same_tokens else 1.0
        if same_tokens and tok_rate == 0:
            failures.append("llama.cpp tokenizes every prompt differently from the merged model's tokenizer.")
        elif tok_rate < 1:
            warnings.append(f"llama.cpp tokenizes {tok_rate:.0%} of prompts exactly like the merged model.")

        samples, overlaps, exact, stops, empty = [], [], 0, 0, 0
        for i, p in enumerate(prompts):
            say(
                0.5 + 0.35 * i / max(1, len(prompts)),
                f"Answering held-out prompt {i + 1} of {len(prompts)} with the GGUF",
            )
            out = llm.create_chat_completion(
                messages=p.messages, temperature=0.0, max_tokens=max_tokens, seed=0
            )
            choice = out["choices"][0]
            answer = (choice["message"].get("content") or "").strip()
            stopped = choice.get("finish_reason") == "stop"
            a_ids = llm.tokenize(answer.encode(), add_bos=False)
            b_ids = llm.tokenize(ref["answers"][i].encode(), add_bos=False)
            overlaps.append(_prefix_overlap(a_ids, b_ids))
            exact += answer == ref["answers"][i]
            stops += stopped
            empty += not answer and bool(ref["answers"][i])
            samples.append(
                {
                    "prompt": p.messages[-1]["content"],
                    "merged": ref["answers"][i],
                    "gguf": answer,
                    "stopped": stopped,
                }
            )
    finally:
        llm.close()

    n = len(prompts)
    merged_stop_rate = sum(ref["stopped"]) / n if n else 1.0
    stop_rate = stops / n if n else 1.0
    overlap = sum(overlaps) / n if n else 1.0
    if n and empty > n / 2:
        failures.append(f"The GGUF gave empty answers to {empty} of {n} prompts the merged model answers.")
    if n and stop_rate < merged_stop_rate - 0.5:
        failures.append(
            f"The GGUF stopped at the end of its turn in {stops} of {n} answers; the merged model in "
            f"{sum(ref['stopped'])}."
        )
    if n and overlap < limits.min_prefix_overlap:
        failures.append(
            f"The GGUF's answers share only {overlap:.0%} of their tokens with the merged model's "
            f"(at least {limits.min_prefix_overlap:.0%} expected for {quant})."
        )

    say(0.88, "Measuring perplexity of the GGUF on held-out answers")
    ppl = _gguf_perplexity(gguf, ref["spans"])
    ppl_ref = ref["perplexity"]
    if ppl is not None and ppl_ref and ppl > ppl_ref * limits.max_ppl_ratio:
        failures.append(
            f"The GGUF's perplexity ({ppl:.2f}) is far above the merged model's ({ppl_ref:.2f}; at most "
            f"x{limits.max_ppl_ratio} expected for {quant}): the file produces garbage."
        )
    summary = {
        "passed": not failures,
        "chat_template": template_ok,
        "end_of_turn_token": ref["eot_token"],
        "stops_at_end_of_turn": eot_ok and stop_rate >= merged_stop_rate - 0.5,
        "stop_rate": stop_rate,
        "stop_rate_merged": merged_stop_rate,
        "agreement": exact / n if n else None,
        "token_agreement": overlap if n else None,
        "tokenizer_match": tok_rate,
        "perplexity_merged": ppl_ref,
        "perplexity_gguf": ppl,
        "prompts": n,
    }
    return VerificationReport(not failures, quant, summary, failures, warnings, samples)
