"""When fine-tuning is not the right tool: few rows, or a task a system prompt already solves.

The Data page shows these before a run is started; each piece of advice says what to try instead (a system
prompt with a few of the rows as examples, tried on the base model in the Chat page first), and
`draft_system_prompt` writes that prompt for the Chat page to start from.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tunedesk.core.data.records import Record

TOO_FEW = 20  # rows: below this a run mostly memorises them (quality.py already warns below 100)
FEW_LABELS = 8  # this many distinct answers or fewer: a classification a prompt can state outright
BASE_ALREADY_GOOD = 0.5  # the base model's task validation loss below this: it already answers like the data
EXAMPLES = (
    3  # rows quoted in a drafted system prompt: enough to show the format, short enough for a small model
)
EXAMPLE_CHARS = 300  # a quoted question or answer is cut here
TRY_PROMPT = (
    "Try a system prompt with two or three of your rows as examples on the base model in the Chat page first."
)


@dataclass(frozen=True)
class Advice:
    kind: str  # too_few_rows | few_answers | answers_copied | base_already_good
    message: str
    action: str


def fine_tuning_advice(records: list[Record], base_val_loss: float | None = None) -> list[Advice]:
    """Advice for a dataset (and, when a run has measured it, the base model's loss on it); [] when fine."""
    out: list[Advice] = []
    n = len(records)
    if n < TOO_FEW:
        out.append(
            Advice(
                "too_few_rows",
                f"Only {n} rows: too few to fine-tune on (it would memorise them).",
                TRY_PROMPT,
            )
        )
    chats = [r for r in records if r.kind == "chat" and r.reference()]
    if len(chats) >= TOO_FEW:
        answers = Counter(r.reference().strip() for r in chats)
        if len(answers) <= FEW_LABELS:
            labels = ", ".join(a[:30] for a, _ in answers.most_common(FEW_LABELS))
            out.append(
                Advice(
                    "few_answers",
                    f"Every row answers with one of {len(answers)} labels ({labels}): a system prompt that lists "
                    "them often does this without training.",
                    TRY_PROMPT,
                )
            )
        copied = sum(1 for r in chats if _copied(r))
        if copied >= 0.8 * len(chats):
            out.append(
                Advice(
                    "answers_copied",
                    f"{copied} of {len(chats)} answers are copied from the question: extraction that a system "
                    "prompt usually handles.",
                    TRY_PROMPT,
                )
            )
    good = base_already_good(base_val_loss)
    if good is not None:
        out.append(good)
    return out


def base_already_good(base_val_loss: float | None) -> Advice | None:
    """Advice when a run's step-0 check (the base model's task validation loss) is already low, else None."""
    if base_val_loss is None or not base_val_loss < BASE_ALREADY_GOOD:
        return None
    return Advice(
        "base_already_good",
        f"The base model already did well on your data (validation loss {base_val_loss:.2f} at step 0): "
        "a system prompt may be enough.",
        TRY_PROMPT,
    )


def _copied(record: Record) -> bool:
    answer = record.reference().strip().lower()
    asked = " ".join(m["content"] for m in record.prompt_messages() if m["role"] == "user").lower()
    return bool(answer) and answer in asked


def draft_system_prompt(records: list[Record], advice: list[Advice]) -> str:
    """A system prompt to try on the base model instead of training: the rows' own system prompt, what the
    advice saw (the labels, or answers copied from the question), and a few rows as examples. '' without
    advice, or without chat rows to quote."""
    chats = [r for r in records if r.kind == "chat" and r.reference()]
    if not advice or not chats:
        return ""
    kinds = {a.kind for a in advice}
    systems = Counter(m["content"].strip() for r in chats for m in r.messages if m["role"] == "system")
    lines = [systems.most_common(1)[0][0]] if systems else []
    if "few_answers" in kinds:
        labels = sorted({r.reference().strip() for r in chats})
        lines.append("Answer with exactly one of these labels and nothing else: " + ", ".join(labels) + ".")
    if "answers_copied" in kinds:
        lines.append(
            "Answer by copying the exact words of the message that answer it; add nothing of your own."
        )
    lines.append("Answer in the same format as these examples.")
    for i, r in enumerate(chats[:EXAMPLES], 1):
        asked = [m["content"] for m in r.prompt_messages() if m["role"] == "user"]
        question = _cut(asked[-1] if asked else "")
        lines.append(f"\nExample {i}\nMessage: {question}\nAnswer: {_cut(r.reference())}")
    return "\n".join(lines)


def _cut(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXAMPLE_CHARS else flat[: EXAMPLE_CHARS - 1] + "…"
