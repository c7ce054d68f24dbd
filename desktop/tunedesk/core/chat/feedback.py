"""Feedback given while chatting, kept as preference pairs that a DPO run can train on.

Two files per chatted model in ``<data home>/datasets/``:

    feedback-<name>.ratings.jsonl   every rating as given: {"prompt", "answer", "rating": up|down, "better"}
    feedback-<name>.jsonl           the pairs they make, in TRL's preference format (a dataset file)

A pair needs a better and a worse answer to the same prompt (the conversation before the answer):
"write a better answer" makes one at once (chosen: the person's answer, rejected: the model's); a thumbs up
and a thumbs down on two answers to one prompt (say, before and after "regenerate") make another. A lone
thumb waits in the ratings file until its counterpart comes. Rating the same answer again replaces the
earlier rating. Both files are rewritten atomically after each rating, so neither is ever half written,
and the pairs file is always exactly what the ratings make.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunedesk.core.atomic import write_text_atomic
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.paths import data_home

UP, DOWN = "up", "down"


def datasets_dir() -> Path:
    return data_home() / "datasets"


def feedback_path(model_name: str) -> Path:
    """The pairs dataset for one chatted model (a run's or a GGUF file's name)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model_name).strip("-.") or "model"
    return datasets_dir() / f"feedback-{slug}.jsonl"


@dataclass
class FeedbackFile:
    """The feedback on one model. `path` is the pairs dataset; the ratings sit beside it."""

    path: Path

    @property
    def ratings_path(self) -> Path:
        return self.path.with_suffix(".ratings.jsonl")

    def rate(self, prompt: Sequence[dict[str, str]], answer: str, up: bool) -> int:
        """A thumbs up or down on `answer` to `prompt` (the messages before it). Returns the pair count."""
        return self._add(prompt, answer, UP if up else DOWN, None)

    def better_answer(self, prompt: Sequence[dict[str, str]], answer: str, better: str) -> int:
        """The person wrote `better` in place of the model's `answer`: a pair at once."""
        if not better.strip():
            raise TuneDeskError(
                "The better answer is empty.", hint="Write the answer you want the model to give."
            )
        if better.strip() == answer.strip():
            raise TuneDeskError(
                "The better answer is the same as the model's.", hint="Change it, or give a thumbs up."
            )
        return self._add(prompt, answer, DOWN, better)

    def ratings(self) -> list[dict[str, Any]]:
        try:
            # "\n" only: an answer may hold U+2028 or U+0085, which str.splitlines() would break a row at.
            lines = self.ratings_path.read_text(encoding="utf-8").split("\n")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]

    def pairs(self) -> list[dict[str, Any]]:
        return make_pairs(self.ratings())

    def _add(self, prompt: Sequence[dict[str, str]], answer: str, rating: str, better: str | None) -> int:
        messages = _check_prompt(prompt)
        if not answer.strip():
            raise TuneDeskError("There is no answer to rate.", hint="Wait until the model has answered.")

        def same_thumb(r: dict[str, Any]) -> bool:  # a new thumb on an answer replaces the old one
            return (
                better is None
                and r.get("better") is None
                and (r["prompt"], r["answer"]) == (messages, answer)
            )

        kept = [r for r in self.ratings() if not same_thumb(r)]
        kept.append(
            {"prompt": messages, "answer": answer, "rating": rating, "better": better, "time": time.time()}
        )
        write_text_atomic(self.ratings_path, _jsonl(kept))
        pairs = make_pairs(kept)
        write_text_atomic(self.path, _jsonl(pairs))
        return len(pairs)


def make_pairs(ratings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The preference pairs `ratings` make, in the order they were first made, without repeats."""
    chosen: dict[str, list[str]] = {}
    rejected: dict[str, list[str]] = {}
    prompts: dict[str, list[dict[str, str]]] = {}
    pairs: list[tuple[str, str, str]] = []
    for r in ratings:
        key = json.dumps(r["prompt"], sort_keys=True)
        prompts[key] = r["prompt"]
        good, bad = chosen.setdefault(key, []), rejected.setdefault(key, [])
        if r.get("better"):
            pairs.append((key, r["better"], r["answer"]))
        new_good = [r["better"]] if r.get("better") else [r["answer"]] if r["rating"] == UP else []
        new_bad = [r["answer"]] if r["rating"] == DOWN else []
        pairs += [(key, g, b) for g in new_good for b in bad]
        pairs += [(key, g, b) for g in good for b in new_bad]
        good += new_good
        bad += new_bad
    out, seen = [], set()
    for key, good_answer, bad_answer in pairs:
        if (key, good_answer, bad_answer) in seen or good_answer.strip() == bad_answer.strip():
            continue
        seen.add((key, good_answer, bad_answer))
        out.append(
            {
                "prompt": prompts[key],
                "chosen": [{"role": "assistant", "content": good_answer}],
                "rejected": [{"role": "assistant", "content": bad_answer}],
            }
        )
    return out


def _check_prompt(prompt: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    messages = [{"role": str(m["role"]), "content": str(m["content"])} for m in prompt]
    if not messages or messages[-1]["role"] != "user":
        raise TuneDeskError(
            "Feedback needs the conversation up to the user's question the answer replies to.",
            hint="Pass the messages before the rated answer, ending with the user's turn.",
        )
    return messages


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
