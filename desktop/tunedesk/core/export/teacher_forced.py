"""Teacher-forced comparison of a GGUF file with the merged model it was made from.

Both models read the same token ids (held-out answers, or held-out text for raw-text runs); at every answer
position we compare their next-token distributions: mean KL divergence (merged || GGUF), how often their top
token agrees, and the perplexity each gives the reference tokens. This is how llama.cpp's own quantization
checks (`llama-perplexity --kl-divergence`) judge a file, and unlike comparing free-running greedy answers it
does not depend on how far two texts drift apart after their first different token, which for a lightly
trained or small model is almost immediately.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_SCORED_TOKENS = 512  # all sequences together: enough for a stable mean, small enough to keep in memory
MAX_TEXT_TOKENS = 128  # one held-out raw-text row
# A different top token counts as agreement when the merged model itself rates it within this many nats of its
# own top token: a near-tie, which any rounding may flip (an untrained model's almost flat distributions are
# all near-ties; a trained model's rarely are).
TIE_NATS = 0.1


@dataclass
class Sequence:
    ids: list[int]
    start: int  # first scored position: ids[start:end] are predicted from what precedes them
    end: int


def held_out_sequences(val_path: Path, tokenizer: Any, eot_id: int, n: int) -> list[Sequence]:
    """Up to `n` held-out rows as token ids: a chat row's last assistant answer (with its end-of-turn token)
    after the conversation before it; a raw-text row's text (with EOS), as training saw them."""
    out: list[Sequence] = []
    budget = MAX_SCORED_TOKENS
    if not val_path.is_file():
        return out
    for line in val_path.read_text(encoding="utf-8").split("\n"):  # not splitlines(): see data/split.py
        if len(out) >= n or budget <= 0:
            break
        try:
            row = json.loads(line)
        except ValueError:
            continue
        seq = _chat_sequence(row, tokenizer, eot_id) or _text_sequence(row, tokenizer)
        if seq is None or seq.end - seq.start < 1:
            continue
        seq.end = min(seq.end, seq.start + budget)
        budget -= seq.end - seq.start
        out.append(seq)
    return out


def _chat_sequence(row: Any, tokenizer: Any, eot_id: int) -> Sequence | None:
    msgs = row.get("messages") if isinstance(row, dict) else None
    if not msgs:
        return None
    last = max((i for i, m in enumerate(msgs) if m.get("role") == "assistant"), default=-1)
    if last <= 0:
        return None
    prompt = tokenizer.apply_chat_template(msgs[:last], tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(msgs[: last + 1], tokenize=False)
    ids = tokenizer(full, add_special_tokens=False)["input_ids"]
    start = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    end = ids.index(eot_id, start) + 1 if eot_id in ids[start:] else len(ids)
    return Sequence(ids[:end], start, end)


def _text_sequence(row: Any, tokenizer: Any) -> Sequence | None:
    text = row.get("text") if isinstance(row, dict) else None
    if not isinstance(text, str) or not text.strip():
        return None
    ids = tokenizer(text, add_special_tokens=False)["input_ids"][:MAX_TEXT_TOKENS]
    if tokenizer.eos_token_id is not None and len(ids) < MAX_TEXT_TOKENS:
        ids.append(tokenizer.eos_token_id)
    return Sequence(ids, 1, len(ids))


def merged_log_probs(model: Any, sequences: list[Sequence]) -> list[Any]:
    """Per sequence, a float32 array [scored positions, vocab] of the merged model's next-token log-probs."""
    import torch

    out = []
    with torch.no_grad():
        for s in sequences:
            logits = model(torch.tensor([s.ids[: s.end]])).logits[0, s.start - 1 : s.end - 1].float()
            out.append(torch.log_softmax(logits, dim=-1).numpy())
    return out


def gguf_log_probs(gguf: Path, sequences: list[Sequence]) -> list[Any]:
    """The same arrays from llama.cpp: one `eval` of the identical ids per sequence, scores of every position."""
    import numpy as np

    from tunedesk.core.chat.llama_load import load_llama

    if not sequences:
        return []
    llm = load_llama(gguf, n_ctx=max(s.end for s in sequences) + 8, logits_all=True)
    out = []
    try:
        for s in sequences:
            llm.reset()
            llm.eval(s.ids[: s.end])
            logits = np.asarray(llm.scores[s.start - 1 : s.end - 1], dtype=np.float64)
            top = logits.max(axis=1, keepdims=True)
            logz = top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True))
            out.append((logits - logz).astype(np.float32))
    finally:
        llm.close()
    return out


@dataclass
class Comparison:
    tokens: int  # scored positions
    mean_kl: float  # nats per token, KL(merged || gguf)
    top1_agreement: (
        float  # fraction of positions where both models' most likely next token is the same (TIE_NATS)
    )
    perplexity_merged: float
    perplexity_gguf: float
    finite: bool  # False: the GGUF produced NaN or infinite scores

    @property
    def ppl_ratio(self) -> float:
        return self.perplexity_gguf / self.perplexity_merged if self.perplexity_merged else math.inf


def compare(sequences: list[Sequence], merged: list[Any], gguf: list[Any]) -> Comparison:
    import numpy as np

    kl_sum, agree, nll_m, nll_g, count, finite = 0.0, 0, 0.0, 0.0, 0, True
    for s, lp, lq in zip(sequences, merged, gguf, strict=True):
        if not np.isfinite(lq).all():
            finite = False
            lq = np.nan_to_num(lq, nan=-1e4, posinf=0.0, neginf=-1e4)
        p = np.exp(lp.astype(np.float64))
        kl_sum += float((p * (lp.astype(np.float64) - lq)).sum())
        rows = np.arange(len(lp))
        agree += int((lp[rows, lq.argmax(axis=1)] >= lp.max(axis=1) - TIE_NATS).sum())
        targets = np.asarray(s.ids[s.start : s.end])
        nll_m -= float(lp[rows, targets].sum())
        nll_g -= float(lq[rows, targets].sum())
        count += len(targets)
    if not count:
        return Comparison(0, 0.0, 1.0, math.nan, math.nan, finite)
    return Comparison(
        count,
        max(0.0, kl_sum / count),
        agree / count,
        math.exp(nll_m / count),
        math.exp(min(nll_g / count, 700.0)),
        finite,
    )
