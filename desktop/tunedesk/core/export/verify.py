"""Check a GGUF file before anyone is told it is ready.

Structural checks: the chat template is embedded and identical to the merged model's; the end-of-turn token
is the GGUF's EOS and llama.cpp treats it as end-of-generation; the vocabulary has the merged model's size and
llama.cpp tokenizes held-out text as the merged model's tokenizer does.

The gate on the weights is teacher-forced (teacher_forced.py): both models read the same held-out answers
token by token, and the GGUF must stay within the bounds of its quantization (quants.py) on mean KL divergence,
top-1 agreement and perplexity ratio. Greedy answers side by side are kept as information only: free-running
texts of a lightly trained model part ways after their first different token even when the file is fine.

Summary keys (VerificationReport.summary, what the Export page and `tunedesk export` show):
    passed, verdict            bool, and one sentence saying why
    chat_template              bool: embedded and identical to the merged model's
    end_of_turn_token          the token answers stop at; stops_at_end_of_turn: bool, llama.cpp stops there
    tokenizer_match            fraction of held-out texts llama.cpp tokenizes exactly like the merged model
    kl_divergence              mean nats per answer token, KL(merged || GGUF); bound max_kl
    top1_agreement             fraction of answer tokens where both models' likeliest next token is the same
    perplexity_merged, perplexity_gguf, perplexity_ratio
    scored_tokens, prompts     how many answer tokens were compared; how many prompts were answered
    agreement, stop_rate, stop_rate_merged   greedy answers (information only)
    bounds                     {max_kl, min_top1, max_ppl_ratio} for this quantization
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tunedesk.core.atomic import write_json_atomic
from tunedesk.core.chat.llama_load import load_llama
from tunedesk.core.export.quants import Quant, get_quant
from tunedesk.core.export.teacher_forced import (
    Comparison,
    Sequence,
    compare,
    gguf_log_probs,
    held_out_sequences,
    merged_log_probs,
)

Progress = Callable[[float, str], Any]


@dataclass
class VerificationReport:
    passed: bool
    quant: str
    summary: dict[str, Any]  # flat: what the GUI shows (keys in the module docstring)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_prompts(val_path: Path, n: int) -> list[list[dict[str, str]]]:
    """The conversations before the last assistant answer of the first `n` held-out chat rows."""
    out: list[list[dict[str, str]]] = []
    if not val_path.is_file():
        return out
    for line in val_path.read_text(encoding="utf-8").split("\n"):  # not splitlines(): see data/split.py
        try:
            msgs = json.loads(line).get("messages")
        except (ValueError, AttributeError):
            continue
        last = max((i for i, m in enumerate(msgs or []) if m.get("role") == "assistant"), default=-1)
        if last > 0:
            out.append(msgs[:last])
        if len(out) >= n:
            break
    return out


def merged_reference(merged: Path, val_path: Path, n: int, max_tokens: int) -> tuple[dict[str, Any], list]:
    """What the GGUF is compared against: the merged (fp32) model's greedy answers (information) and its
    next-token log-probs over the held-out answers (the gate)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(merged)
    model = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32).eval()
    eot_id = model.generation_config.eos_token_id
    eot_id = int(eot_id[0] if isinstance(eot_id, list) else eot_id)
    answers, stopped, prompt_texts = [], [], []
    with torch.no_grad():
        for messages in load_prompts(val_path, n):
            text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            ids = tok(text, add_special_tokens=False)["input_ids"]
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
    sequences = held_out_sequences(val_path, tok, eot_id, n)
    texts = [tok.decode(s.ids[: s.end]) for s in sequences]
    ref = {
        "prompts": load_prompts(val_path, n),
        "answers": answers,
        "stopped": stopped,
        "sequences": [asdict(s) for s in sequences],
        "texts": texts,
        "text_ids": [tok(t, add_special_tokens=False)["input_ids"] for t in texts],
        "vocab_size": int(model.get_output_embeddings().weight.shape[0]),
        "eot_id": eot_id,
        "eot_token": tok.convert_ids_to_tokens(eot_id),
        "chat_template": tok.chat_template,
    }
    return ref, merged_log_probs(model, sequences)


def cached_reference(
    merged: Path, val_path: Path, n: int, max_tokens: int, cache: Path
) -> tuple[dict[str, Any], list]:
    """merged_reference, remembered per merged folder and held-out file: a second quantization is quicker."""
    import numpy as np

    src = merged / "tunedesk-merge.json"
    key = hashlib.sha256(
        json.dumps(
            [
                src.read_text() if src.is_file() else str(merged.stat().st_mtime),
                val_path.read_text(encoding="utf-8") if val_path.is_file() else "",
                n,
                max_tokens,
            ]
        ).encode()
    ).hexdigest()[:16]
    meta, arrays = cache / f"reference-{key}.json", cache / f"reference-{key}.npz"
    try:
        ref = json.loads(meta.read_text(encoding="utf-8"))
        with np.load(arrays) as npz:
            return ref, [npz[f"s{i}"] for i in range(len(ref["sequences"]))]
    except (OSError, ValueError, KeyError):
        pass
    ref, log_probs = merged_reference(merged, val_path, n, max_tokens)
    cache.mkdir(parents=True, exist_ok=True)
    partial = arrays.with_name(arrays.name + ".partial.npz")
    np.savez(partial, **{f"s{i}": a for i, a in enumerate(log_probs)})
    partial.replace(arrays)
    write_json_atomic(meta, ref)
    return ref, log_probs


def _structure(llm: Any, ref: dict[str, Any], failures: list[str], warnings: list[str]) -> dict[str, Any]:
    """Template, end of turn, vocabulary and tokenizer of the loaded GGUF against the merged model's."""
    import llama_cpp

    template = llm.metadata.get("tokenizer.chat_template")
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
    vocab_ok = llm.n_vocab() == ref["vocab_size"]
    if not vocab_ok:
        failures.append(
            f"The GGUF has a vocabulary of {llm.n_vocab()} tokens, the merged model {ref['vocab_size']}: it "
            "was made from a different model or tokenizer."
        )
    same = [
        llm.tokenize(text.encode("utf-8"), add_bos=False, special=True) == ids
        for text, ids in zip(ref["texts"], ref["text_ids"], strict=True)
    ]
    tok_rate = sum(same) / len(same) if same else 1.0
    if tok_rate < 0.5:
        failures.append(
            f"llama.cpp tokenizes only {tok_rate:.0%} of the held-out texts like the merged model's "
            "tokenizer: the file carries a different tokenizer."
        )
    elif tok_rate < 1:
        warnings.append(
            f"llama.cpp tokenizes {tok_rate:.0%} of held-out texts exactly like the merged model."
        )
    return {
        "chat_template": template_ok,
        "end_of_turn_token": ref["eot_token"],
        "stops_at_end_of_turn": eot_ok,
        "vocab_match": vocab_ok,
        "tokenizer_match": tok_rate,
    }


def _side_by_side(llm: Any, ref: dict[str, Any], max_tokens: int, say: Progress) -> dict[str, Any]:
    """Greedy answers of the GGUF next to the merged model's: shown to the person, never a gate."""
    samples, exact, stops = [], 0, 0
    n = len(ref["prompts"])
    for i, messages in enumerate(ref["prompts"]):
        say(0.45 + 0.3 * i / max(1, n), f"Answering held-out prompt {i + 1} of {n} with the GGUF")
        out = llm.create_chat_completion(messages=messages, temperature=0.0, max_tokens=max_tokens, seed=0)
        choice = out["choices"][0]
        answer = (choice["message"].get("content") or "").strip()
        stopped = choice.get("finish_reason") == "stop"
        exact += answer == ref["answers"][i]
        stops += stopped
        samples.append(
            {
                "prompt": messages[-1]["content"],
                "merged": ref["answers"][i],
                "gguf": answer,
                "stopped": stopped,
            }
        )
    return {
        "samples": samples,
        "agreement": exact / n if n else None,
        "stop_rate": stops / n if n else None,
        "stop_rate_merged": sum(ref["stopped"]) / n if n else None,
    }


def judge(c: Comparison, limits: Quant, failures: list[str]) -> None:
    """The teacher-forced gate: the GGUF's distributions stay within this quantization's measured bounds."""
    q = limits.name
    if not c.finite:
        failures.append("The GGUF produces invalid numbers (NaN or infinity): its weights are damaged.")
    if c.mean_kl > limits.max_kl:
        failures.append(
            f"The GGUF's next-token probabilities differ from the merged model's by {c.mean_kl:.3f} nats per "
            f"token on held-out answers (KL divergence; at most {limits.max_kl} expected for {q})."
        )
    if c.top1_agreement < limits.min_top1:
        failures.append(
            f"The GGUF's most likely next token matches the merged model's at only {c.top1_agreement:.0%} of "
            f"held-out answer tokens (at least {limits.min_top1:.0%} expected for {q})."
        )
    if c.ppl_ratio > limits.max_ppl_ratio:
        failures.append(
            f"The GGUF's perplexity on held-out answers ({c.perplexity_gguf:.2f}) is x{c.ppl_ratio:.2f} the "
            f"merged model's ({c.perplexity_merged:.2f}; at most x{limits.max_ppl_ratio} expected for {q})."
        )


def verify_gguf(
    gguf: Path,
    merged: Path,
    val_path: Path,
    quant: str,
    *,
    cache: Path,
    n_prompts: int = 8,
    max_tokens: int = 64,
    progress: Progress | None = None,
) -> VerificationReport:
    limits = get_quant(quant)
    say = progress or (lambda _f, _m: None)
    say(0.05, "Reading held-out answers with the merged model")
    ref, merged_lp = cached_reference(merged, val_path, n_prompts, max_tokens, cache)
    failures: list[str] = []
    warnings: list[str] = []

    say(0.4, "Loading the GGUF file with llama.cpp")
    longest = max((s["end"] for s in ref["sequences"]), default=0)
    llm = load_llama(gguf, n_ctx=max(512, longest + max_tokens + 16))
    try:
        summary = _structure(llm, ref, failures, warnings)
        side = _side_by_side(llm, ref, max_tokens, say)
    finally:
        llm.close()

    comparison = None
    sequences = [Sequence(**s) for s in ref["sequences"]]
    if summary["vocab_match"] and sequences:
        say(0.8, "Reading the same held-out answers with the GGUF")
        comparison = compare(sequences, merged_lp, gguf_log_probs(gguf, sequences))
        judge(comparison, limits, failures)
    elif not sequences:
        warnings.append("The run has no held-out answers: the GGUF's weights could not be compared.")
    passed = not failures
    summary.update(
        passed=passed,
        verdict=_verdict(passed, comparison, quant, failures),
        kl_divergence=comparison.mean_kl if comparison else None,
        top1_agreement=comparison.top1_agreement if comparison else None,
        perplexity_merged=comparison.perplexity_merged if comparison else None,
        perplexity_gguf=comparison.perplexity_gguf if comparison else None,
        perplexity_ratio=comparison.ppl_ratio if comparison else None,
        scored_tokens=comparison.tokens if comparison else 0,
        prompts=len(ref["prompts"]),
        agreement=side["agreement"],
        stop_rate=side["stop_rate"],
        stop_rate_merged=side["stop_rate_merged"],
        bounds={"max_kl": limits.max_kl, "min_top1": limits.min_top1, "max_ppl_ratio": limits.max_ppl_ratio},
    )
    return VerificationReport(passed, quant, summary, failures, warnings, side["samples"])


def _verdict(passed: bool, c: Comparison | None, quant: str, failures: list[str]) -> str:
    if not passed:
        return failures[0]
    if c is None:
        return (
            f"The {quant} file is intact (template, end of turn, tokenizer); no held-out answers to compare."
        )
    return (
        f"The {quant} file predicts like the merged model: the same likeliest next token at "
        f"{c.top1_agreement:.0%} of {c.tokens} held-out answer tokens, perplexity x{c.ppl_ratio:.2f}."
    )
