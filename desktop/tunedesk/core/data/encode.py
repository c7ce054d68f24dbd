"""Records to token ids and labels, ready for a causal language model.

Chat records: the model's chat template, labels only on the answers (see render.py). A chat example longer
than seq_len is cut at seq_len (``truncated``) or, with ``drop_long``, left out; one whose answer is cut away
entirely is always left out, since it would teach nothing.

Pair records (preference data): both sides are encoded like a chat, labels only on the final answer (the
prompt's earlier answers are context, not what is preferred); a pair is left out when either answer is cut
away entirely.

Text records (continued pre-training): every token is labelled, each document ends with EOS, and the stream
of documents is cut into seq_len windows, so nothing is thrown away.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from tunedesk.core.data.records import Problem, Record
from tunedesk.core.data.render import stop_token_ids, tokenize_chat
from tunedesk.core.errors import TuneDeskError

IGNORE = -100


@dataclass
class Example:
    input_ids: list[int]
    labels: list[int]
    truncated: bool = False

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def supervised_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


@dataclass
class PairExample:
    """A preference pair: the prompt with the chosen answer, and with the rejected one."""

    chosen: Example
    rejected: Example

    def __len__(self) -> int:
        return len(self.chosen) + len(self.rejected)

    @property
    def supervised_tokens(self) -> int:
        return self.chosen.supervised_tokens + self.rejected.supervised_tokens

    @property
    def truncated(self) -> bool:
        return self.chosen.truncated or self.rejected.truncated


@dataclass
class EncodedSet:
    examples: list[Any]  # Example, or PairExample for preference pairs
    truncated: int  # examples cut to seq_len
    dropped: int  # records left out (too long with drop_long, or nothing left to learn after the cut)
    token_lengths: list[int] = field(default_factory=list)  # each record's full length before any cut
    supervised_tokens: int = 0  # labelled tokens across examples (after cuts)
    problems: list[Problem] = field(default_factory=list)  # rows the model's chat template refused (dropped)


@dataclass
class DataStats:
    """What the preset selector needs to know about the data."""

    n_examples: int
    p95_tokens: int
    max_tokens: int
    total_tokens: int
    supervised_tokens: int
    preference: bool = False  # the rows are preference pairs (prompt, chosen, rejected): they train DPO

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _text_ids(record: Record, tokenizer: Any) -> list[int]:
    ids = tokenizer(record.text or "", add_special_tokens=False)["input_ids"]
    return ids + ([tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else [])


def _windows(ids: list[int], seq_len: int) -> list[Example]:
    return [Example(ids[i : i + seq_len], ids[i : i + seq_len]) for i in range(0, len(ids), seq_len)]


def encode_record(record: Record, tokenizer: Any, seq_len: int) -> list[Example]:
    """One record as examples: one for chat (cut to seq_len, marked ``truncated``), several for long text."""
    if record.kind == "text":
        return _windows(_text_ids(record, tokenizer), seq_len)
    try:
        input_ids, labels = tokenize_chat(tokenizer, record.messages or [])
    except TuneDeskError as err:
        err.where = {"line": record.line, "field": "messages", **err.where}
        raise
    if len(input_ids) <= seq_len:
        return [Example(input_ids, labels)]
    return [Example(input_ids[:seq_len], labels[:seq_len], truncated=True)]


def encode_records(
    records: list[Record], tokenizer: Any, seq_len: int, drop_long: bool = False
) -> EncodedSet:
    """Encode a dataset. Text records are joined (EOS between documents) before cutting into windows."""
    if seq_len < 1:
        raise ValueError(f"seq_len must be at least 1, not {seq_len}")
    out = EncodedSet([], 0, 0)
    stream: list[int] = []
    stops = stop_token_ids(tokenizer)
    for record in records:
        if record.kind == "text":
            ids = _text_ids(record, tokenizer)
            out.token_lengths.append(len(ids))
            stream.extend(ids)
            continue
        try:
            pair = record.kind == "pair"
            conversations = [record.messages or [], *([record.rejected or []] if pair else [])]
            sides = [tokenize_chat(tokenizer, c, stops) for c in conversations]
            if pair:
                sides = [_last_answer_only(*side) for side in sides]
        except TuneDeskError as err:
            out.problems.append(Problem(record.line, "messages", "template", err.message))
            out.dropped += 1
            continue
        out.token_lengths.append(max(len(ids) for ids, _ in sides))
        if drop_long and out.token_lengths[-1] > seq_len:
            out.dropped += 1
            continue
        cut = [_cut(ids, labels, seq_len) for ids, labels in sides]
        if any(ex.supervised_tokens == 0 for ex in cut):
            out.dropped += 1  # an answer cut away entirely teaches nothing
            continue
        out.truncated += any(ex.truncated for ex in cut)
        out.examples.append(PairExample(*cut) if pair else cut[0])
    out.examples.extend(_windows(stream, seq_len))
    if not out.examples and out.problems:
        first = out.problems[0]
        raise TuneDeskError(
            f"No row could be rendered for this model: {first.message}",
            hint="Change the rows to what this model's chat template accepts, or pick another model.",
            kind="bad_data",
            where={"line": first.line, "field": first.field},
        )
    out.supervised_tokens = sum(e.supervised_tokens for e in out.examples)
    return out


def _cut(input_ids: list[int], labels: list[int], seq_len: int) -> Example:
    if len(input_ids) <= seq_len:
        return Example(input_ids, labels)
    return Example(input_ids[:seq_len], labels[:seq_len], truncated=True)


def _last_answer_only(input_ids: list[int], labels: list[int]) -> tuple[list[int], list[int]]:
    """Keep the labels of the last answer (the last run of labelled tokens) and unlabel the earlier ones."""
    end = max((i for i, t in enumerate(labels) if t != IGNORE), default=-1) + 1
    start = end
    while start > 0 and labels[start - 1] != IGNORE:
        start -= 1
    return input_ids, [IGNORE] * start + labels[start:end] + [IGNORE] * (len(labels) - end)


def percentile(values: list[int], q: float) -> int:
    """Nearest-rank percentile (no numpy needed for a handful of numbers)."""
    if not values:
        return 0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def data_stats(encoded: EncodedSet) -> DataStats:
    lengths = encoded.token_lengths or [len(e) for e in encoded.examples]
    return DataStats(
        n_examples=len(encoded.examples),
        p95_tokens=percentile(lengths, 95),
        max_tokens=max(lengths, default=0),
        total_tokens=sum(len(e) for e in encoded.examples),
        supervised_tokens=encoded.supervised_tokens,
        preference=any(isinstance(e, PairExample) for e in encoded.examples),
    )
