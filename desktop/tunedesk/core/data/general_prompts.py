"""The general prompts shipped in resources/general/general_prompts.jsonl, and the rows made from them.

Each prompt has a stable id and a split: ``train`` prompts may be mixed into training (answered by the base
model itself, see core/training/rehearsal.py); ``heldout`` prompts are never trained on and measure
forgetting (core/training/forgetting.py).
"""

from __future__ import annotations

import functools
import hashlib
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunedesk.core.data.own_jsonl import read_own_jsonl
from tunedesk.core.data.records import Record
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.paths import resources_dir

SPLITS = ("train", "heldout")
# The forgetting measure uses this many held-out prompts: enough for a stable mean, cheap at the end of a run.
HELDOUT_MEASURED = 24
# A large task needs more general rows than there are training prompts (about 250): each answer is then
# repeated, at most this many times. Rehearsal only has to keep the base model's behaviour, and its own answers
# are already likely under it, so a few copies cost little; dozens would teach it those exact answers by heart.
# At the usual 20% this reaches the chosen fraction up to about 4,000 task rows; beyond, the started event's
# general_fraction_used says what was mixed.
MAX_COPIES = 4


@dataclass(frozen=True)
class GeneralPrompt:
    id: str
    category: str
    split: str
    prompt: str


def general_prompts_file() -> Path:
    return resources_dir() / "general" / "general_prompts.jsonl"


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def load_general_prompts(path: Path | None = None) -> list[GeneralPrompt]:
    path = path or general_prompts_file()
    if not path.is_file():
        raise TuneDeskError(
            f"The general prompts file {path} is missing.",
            hint="Reinstall TuneDesk, or set general_data_fraction=0 (the forgetting measure also needs it).",
            kind="missing_resource",
            where={"file": str(path)},
        )
    hint = "Each line needs id, category, split and prompt; regenerate the file with make_general_prompts.py."
    return read_own_jsonl(path, functools.partial(_prompt, path), what="the general prompts file", hint=hint)


def _prompt(path: Path, row: dict[str, Any], line: int) -> GeneralPrompt:
    prompt = GeneralPrompt(str(row["id"]), str(row["category"]), str(row["split"]), str(row["prompt"]))
    if prompt.split not in SPLITS:
        raise TuneDeskError(
            f"{path.name} line {line}: split {prompt.split!r} is not one of {', '.join(SPLITS)}.",
            hint="Fix the split field, or regenerate the file with make_general_prompts.py.",
            kind="bad_data",
            where={"file": str(path), "line": line, "field": "split"},
        )
    return prompt


def pick_training_prompts(prompts: list[GeneralPrompt], count: int, seed: int) -> list[GeneralPrompt]:
    """`count` training prompts in a seeded order (every category in the mix), never a held-out one."""
    pool = [p for p in prompts if p.split == "train"]
    random.Random(seed).shuffle(pool)
    return pool[:count]


def pick_heldout_prompts(prompts: list[GeneralPrompt], count: int = HELDOUT_MEASURED) -> list[GeneralPrompt]:
    """A fixed subset of the held-out prompts, spread evenly over the file (so over every category)."""
    held = [p for p in prompts if p.split == "heldout"]
    if len(held) <= count:
        return held
    step = len(held) / count
    return [held[int(i * step)] for i in range(count)]


def general_count(task_rows: int, fraction: float) -> int:
    """General rows so that they are `fraction` of the training mix: g / (task + g) = fraction."""
    if fraction <= 0 or task_rows <= 0:
        return 0
    return max(1, round(task_rows * fraction / (1 - fraction)))


def repeated(items: list[Any], count: int) -> list[Any]:
    """`count` items: the list repeated in order, each item at most MAX_COPIES times (fewer if capped)."""
    count = min(count, len(items) * MAX_COPIES)
    return [items[i % len(items)] for i in range(count)] if items else []


def fraction_used(task_rows: int, general_rows: int) -> float:
    """The general rows' share of the training mix (rows, not packed sequences), rounded for events."""
    total = task_rows + general_rows
    return round(general_rows / total, 4) if total else 0.0


def fraction_note(chosen: float | None, used: float | None) -> str | None:
    """Plain words when the mix holds visibly less general data than `general_data_fraction` asked for."""
    if not chosen or used is None or used >= chosen - 0.005:
        return None
    return (
        f"General data is {used:.0%} of the training mix, not the {chosen:.0%} chosen: there are too few "
        f"general answers to balance this many task rows (each is used at most {MAX_COPIES} times)."
    )


def answered_records(prompts: list[GeneralPrompt], answers: dict[str, str]) -> list[Record]:
    """Chat rows (user prompt, the base model's answer); prompts without a usable answer are left out."""
    out = []
    for i, p in enumerate(prompts, start=1):
        answer = (answers.get(p.id) or "").strip()
        if answer:
            messages = [{"role": "user", "content": p.prompt}, {"role": "assistant", "content": answer}]
            out.append(Record(line=i, kind="chat", messages=messages))
    return out
