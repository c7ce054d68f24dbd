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


def answered_records(prompts: list[GeneralPrompt], answers: dict[str, str]) -> list[Record]:
    """Chat rows (user prompt, the base model's answer); prompts without a usable answer are left out."""
    out = []
    for i, p in enumerate(prompts, start=1):
        answer = (answers.get(p.id) or "").strip()
        if answer:
            messages = [{"role": "user", "content": p.prompt}, {"role": "assistant", "content": answer}]
            out.append(Record(line=i, kind="chat", messages=messages))
    return out
