"""Recognise what a dataset's rows mean and normalise each one into a `Record`.

Supervised formats all become a list of {role, content} messages (system/user/assistant):

    openai_chat        {"messages": [{"role": "user", "content": "..."}, ...]}
    sharegpt           {"conversations": [{"from": "human", "value": "..."}, ...]}   human/gpt/system
    alpaca             {"instruction": "...", "input": "...", "output": "..."}      input optional
    prompt_completion  {"prompt": "...", "completion": "..."}
    text               {"text": "..."}, a .txt file, or a folder of .txt/.md notes   (raw text)
    preference         {"prompt": ..., "chosen": ..., "rejected": ...}   preference pairs (pairs.py)
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tunedesk.core.data.raw import RawRow
from tunedesk.core.data.records import ROLES, WARNING, Problem, Record

DATA_FORMATS = ("openai_chat", "sharegpt", "alpaca", "prompt_completion", "text", "preference")
# What each format is called where people read it (the Data page, `tunedesk data inspect`).
FORMAT_NAMES = {
    "openai_chat": "Chat conversations",
    "sharegpt": "Chat conversations (ShareGPT style)",
    "alpaca": "Instructions with answers (Alpaca style)",
    "prompt_completion": "Prompts with completions",
    "text": "Plain text",
    "preference": "Preference pairs (prompt, chosen, rejected)",
}
FILE_FORMAT_NAMES = {
    "jsonl": "a JSON Lines file",
    "json": "a JSON file",
    "csv": "a CSV table",
    "txt": "a text file",
    "parquet": "a Parquet table",
    "folder": "a folder of notes",
}


def format_display_name(data_format: str, file_format: str | None = None) -> str:
    """'Chat conversations in a JSON Lines file': the detected format in plain words, never an id."""
    name = FORMAT_NAMES.get(data_format, data_format.replace("_", " ").capitalize())
    if not file_format:
        return name
    return f"{name} in {FILE_FORMAT_NAMES.get(file_format, f'a {file_format} file')}"


SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "system": "system",
}
FORMAT_HELP = (
    'chat rows {"messages": [{"role": "user", "content": ...}, {"role": "assistant", "content": ...}]}, '
    'ShareGPT {"conversations": [{"from": "human", "value": ...}, {"from": "gpt", ...}]}, '
    'Alpaca {"instruction", "input", "output"}, {"prompt", "completion"}, raw text {"text"}, '
    'or preference pairs {"prompt", "chosen", "rejected"}'
)


class RowError(Exception):
    """A row that cannot be used; carries the field at fault."""

    def __init__(self, field: str | None, kind: str, message: str) -> None:
        super().__init__(message)
        self.field, self.kind, self.message = field, kind, message


def row_format(value: Any) -> str | None:
    """The format one row looks like, from its keys alone (None: not recognisable)."""
    if isinstance(value, str):
        return "text"
    if not isinstance(value, dict):
        return None
    keys = value.keys()
    if "chosen" in keys or "rejected" in keys:
        return "preference"
    if "messages" in keys:
        return "openai_chat"
    if "conversations" in keys:
        return "sharegpt"
    if "instruction" in keys or ("output" in keys and "input" in keys):
        return "alpaca"
    if "prompt" in keys or "completion" in keys:
        return "prompt_completion"
    if "text" in keys:
        return "text"
    return None


def detect_format(rows: list[RawRow]) -> tuple[str | None, Counter[str]]:
    """The format most rows look like, with the tally of keys seen (for the error message when none)."""
    votes: Counter[str] = Counter()
    keys: Counter[str] = Counter()
    for row in rows[:500]:
        fmt = row_format(row.value)
        if fmt:
            votes[fmt] += 1
        if isinstance(row.value, dict):
            keys.update(row.value.keys())
    return (votes.most_common(1)[0][0] if votes else None), keys


def text_value(value: Any, field: str, *, allow_empty: bool = False) -> str:
    if value is None:
        raise RowError(field, "missing_field", f"'{field}' is missing")
    if isinstance(value, list) and all(isinstance(p, dict) for p in value):
        # OpenAI's content parts: [{"type": "text", "text": "..."}]
        parts = [p.get("text") for p in value if p.get("type", "text") == "text"]
        if all(isinstance(p, str) for p in parts) and parts:
            value = "".join(parts)
    if not isinstance(value, str):
        raise RowError(field, "wrong_type", f"'{field}' should be text but is {type_name(value)}")
    if not allow_empty and not value.strip():
        raise RowError(field, "empty", f"'{field}' is empty")
    return value


def type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", bool: "true/false", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def turns_value(
    value: Any, field: str, role_key: str, content_key: str, roles: dict[str, str]
) -> list[dict[str, str]]:
    if value is None:
        raise RowError(field, "missing_field", f"'{field}' is missing")
    if not isinstance(value, list):
        raise RowError(field, "wrong_type", f"'{field}' should be a list of turns but is {type_name(value)}")
    if not value:
        raise RowError(field, "empty", f"'{field}' is an empty list")
    messages = []
    for i, turn in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(turn, dict):
            raise RowError(where, "wrong_type", f"turn {i} should be an object but is {type_name(turn)}")
        raw_role = turn.get(role_key)
        if not isinstance(raw_role, str):
            raise RowError(f"{where}.{role_key}", "missing_field", f"turn {i} has no '{role_key}'")
        role = roles.get(raw_role.strip().lower())
        if raw_role in ("tool", "function") or turn.get("tool_calls") or turn.get("function_call"):
            raise RowError(
                where, "unsupported", f"turn {i} is a tool call or result; tool use is not supported yet"
            )
        if role is None:
            known = ", ".join(sorted(set(roles)))
            raise RowError(f"{where}.{role_key}", "unknown_role", f"unknown role '{raw_role}' (use {known})")
        content = text_value(turn.get(content_key), f"{where}.{content_key}", allow_empty=role != "assistant")
        messages.append({"role": role, "content": content})
    return messages


def _check_conversation(messages: list[dict[str, str]], field: str) -> list[tuple[str, str, str]]:
    """Errors raise; returns warnings as (field, kind, message)."""
    if messages[-1]["role"] != "assistant":
        raise RowError(
            f"{field}[{len(messages) - 1}]",
            "no_final_answer",
            f"the conversation ends with a {messages[-1]['role']} turn, not an assistant answer to learn from",
        )
    warnings = []
    for i, m in enumerate(messages):
        if m["role"] == "system" and i > 0:
            warnings.append((f"{field}[{i}]", "system_late", "a system message after the first turn"))
        if m["role"] == "user" and not m["content"].strip():
            warnings.append((f"{field}[{i}]", "empty", "an empty user message"))
    return warnings


def normalise_row(row: RawRow, data_format: str) -> tuple[Record | None, list[Problem]]:
    """One raw row as a Record (None when skipped), with the problems found in it."""
    try:
        record, warns = _normalise(row, data_format)
    except RowError as err:
        return None, [Problem(row.line, err.field, err.kind, err.message, source=row.source)]
    return record, [Problem(row.line, f, k, m, WARNING, source=row.source) for f, k, m in warns]


def _normalise(row: RawRow, fmt: str) -> tuple[Record, list[tuple[str, str, str]]]:
    value = row.value
    if fmt == "text" and isinstance(value, str):
        return Record(row.line, "text", text=value), []
    if not isinstance(value, dict):
        raise RowError(None, "wrong_type", f"expected a JSON object (a row) but found {type_name(value)}")
    if fmt == "text":
        return Record(row.line, "text", text=text_value(value.get("text"), "text")), []
    warns: list[tuple[str, str, str]] = []
    if fmt == "openai_chat":
        roles = {r: r for r in ROLES}
        messages = turns_value(value.get("messages"), "messages", "role", "content", roles)
        warns = _check_conversation(messages, "messages")
    elif fmt == "sharegpt":
        messages = turns_value(value.get("conversations"), "conversations", "from", "value", SHAREGPT_ROLES)
        warns = _check_conversation(messages, "conversations")
    elif fmt == "alpaca":
        instruction = text_value(value.get("instruction"), "instruction")
        extra = text_value(value.get("input") or "", "input", allow_empty=True)
        output = text_value(value.get("output"), "output")
        messages = [
            {"role": "user", "content": f"{instruction}\n\n{extra}" if extra.strip() else instruction}
        ]
        messages.append({"role": "assistant", "content": output})
        if isinstance(value.get("system"), str) and value["system"].strip():
            messages.insert(0, {"role": "system", "content": value["system"]})
    elif fmt == "prompt_completion":
        prompt = text_value(value.get("prompt"), "prompt")
        completion = text_value(value.get("completion"), "completion")
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}]
    else:
        raise ValueError(f"unknown data format {fmt!r}")
    return Record(row.line, "chat", messages=messages), warns
