"""Preference pairs: one prompt, the answer a person prefers (chosen) and one they do not (rejected).

The rows are TRL's preference format, so datasets made for TRL's DPOTrainer load as they are::

    {"prompt": "...", "chosen": "...", "rejected": "..."}                                   plain text
    {"prompt": [{"role": "user", "content": "..."}],
     "chosen": [{"role": "assistant", "content": "..."}],
     "rejected": [{"role": "assistant", "content": "..."}]}                                 conversational
    {"chosen": [...whole conversation...], "rejected": [...whole conversation...]}          implicit prompt

A text prompt is one user turn; a text answer is one assistant turn. Without a prompt, the two
conversations must agree up to their last assistant turn, which is the prompt. Each row becomes a `Record`
of kind "pair": ``messages`` = prompt + chosen answer, ``rejected`` = prompt + rejected answer, so the
chat-template rendering and answer-only labels of supervised data apply to both sides unchanged.
"""

from __future__ import annotations

from typing import Any

from tunedesk.core.data.formats import SHAREGPT_ROLES, RowError, text_value, turns_value
from tunedesk.core.data.raw import RawRow
from tunedesk.core.data.records import ROLES, WARNING, Problem, Record

PAIR_FIELDS = ("prompt", "chosen", "rejected")
_ROLES = {**{r: r for r in ROLES}, **SHAREGPT_ROLES}


def normalise_pair_row(row: RawRow) -> tuple[Record | None, list[Problem]]:
    """One preference row as a Record of kind "pair" (None when skipped), with the problems found in it."""
    try:
        record, warns = pair_record(row.line, row.value)
    except RowError as err:
        return None, [Problem(row.line, err.field, err.kind, err.message, source=row.source)]
    return record, [Problem(row.line, f, k, m, WARNING, source=row.source) for f, k, m in warns]


def pair_record(line: int, value: Any) -> tuple[Record, list[tuple[str, str, str]]]:
    """Record + warnings (field, kind, message) for one row; RowError names the field at fault."""
    if not isinstance(value, dict):
        raise RowError(None, "wrong_type", "expected a JSON object with prompt, chosen and rejected")
    for name in ("chosen", "rejected"):
        if name not in value:
            raise RowError(name, "missing_field", f"'{name}' is missing (a pair needs both answers)")
    if value.get("prompt") is None:
        prompt, chosen, rejected = _implicit_prompt(value["chosen"], value["rejected"])
    else:
        prompt = _prompt(value["prompt"])
        chosen = _answer(value["chosen"], "chosen")
        rejected = _answer(value["rejected"], "rejected")
    if _same(chosen, rejected):
        raise RowError(
            "rejected", "identical", "chosen and rejected are the same answer: there is nothing to prefer"
        )
    warns = []
    if any(m["role"] == "system" for m in prompt[1:]):
        warns.append(("prompt", "system_late", "a system message after the first turn"))
    return Record(line, "pair", messages=prompt + chosen, rejected=prompt + rejected), warns


def _prompt(value: Any) -> list[dict[str, str]]:
    if isinstance(value, str):
        return [{"role": "user", "content": text_value(value, "prompt")}]
    turns = _turns(value, "prompt")
    if turns[-1]["role"] == "assistant":
        raise RowError(
            f"prompt[{len(turns) - 1}]",
            "prompt_ends_with_answer",
            "the prompt ends with an assistant turn; it should end with what the user asks",
        )
    return turns


def _answer(value: Any, field: str) -> list[dict[str, str]]:
    if isinstance(value, str):
        return [{"role": "assistant", "content": text_value(value, field)}]
    turns = _turns(value, field)
    if turns[-1]["role"] != "assistant":
        raise RowError(
            f"{field}[{len(turns) - 1}]",
            "no_final_answer",
            f"'{field}' does not end with an assistant answer",
        )
    if not turns[-1]["content"].strip():
        raise RowError(f"{field}[{len(turns) - 1}].content", "empty", f"the {field} answer is empty")
    return turns


def _implicit_prompt(chosen: Any, rejected: Any) -> tuple[list[dict[str, str]], ...]:
    """(prompt, chosen answer, rejected answer) of two whole conversations that share their prompt."""
    if isinstance(chosen, str) or isinstance(rejected, str):
        raise RowError(
            "prompt", "missing_field", "'prompt' is missing (text answers need the prompt they answer)"
        )
    c, r = _answer(chosen, "chosen"), _answer(rejected, "rejected")
    if len(c) < 2:
        raise RowError("prompt", "missing_field", "'prompt' is missing and 'chosen' holds only the answer")
    if not _same(c[:-1], r[:-1]):
        raise RowError(
            "rejected",
            "different_prompts",
            "without a 'prompt' field, chosen and rejected must be the same conversation up to the last "
            "answer; here they differ earlier",
        )
    return c[:-1], c[-1:], r[-1:]


def _turns(value: Any, field: str) -> list[dict[str, str]]:
    if isinstance(value, dict):
        value = [value]  # a single message object is a one-turn list
    sharegpt = isinstance(value, list) and bool(value) and isinstance(value[0], dict) and "from" in value[0]
    key = "from" if sharegpt else "role"
    return turns_value(value, field, key, "content" if key == "role" else "value", _ROLES)


def _same(a: list[dict[str, str]], b: list[dict[str, str]]) -> bool:
    return [(m["role"], m["content"].strip()) for m in a] == [(m["role"], m["content"].strip()) for m in b]
