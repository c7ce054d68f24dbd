"""Generate support_preferences.jsonl: preference pairs made from support_summaries.jsonl.

Deterministic (seeded, standard library only): running it again rewrites the same bytes.

    python3 resources/sample_data/make_support_preferences.py [--out FILE] [--seed S]

Each row is TRL's conversational preference format: the ticket as the prompt (system + user turn), the
one-line triage as the chosen answer, and a friendly but generic chatty reply (what a base model tends to
write) as the rejected one. DPO on these pairs teaches the model to prefer the triage format.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
# fmt: off
OPENERS = [
    "Thank you for reaching out to Northwind Office Supply!",
    "Hi there, and thanks for contacting us!",
    "Hello! Thank you so much for your message.",
    "Thanks for getting in touch with our support team!",
    "Dear customer, thank you for contacting Northwind.",
]
MIDDLES = [
    "I'm sorry to hear that you are having trouble, and I completely understand how frustrating this can be.",
    "We really appreciate your patience and we are here to help you with any questions you might have.",
    "I understand your concern and I want to make sure we find the best solution for you.",
    "Your satisfaction is very important to us, and we take every message seriously.",
]
ACTIONS = [
    "Our team will look into this and get back to you as soon as possible.",
    "Could you please provide a few more details so we can assist you better?",
    "I have forwarded your message to the right department, who will contact you shortly.",
    "Please allow us some time to review your request carefully.",
]
CLOSERS = [
    "Is there anything else I can help you with today?",
    "Have a wonderful day!",
    "Thank you for being a valued customer.",
    "Don't hesitate to reach out if you have any other questions.",
]
# fmt: on


def chatty_answer(rng: random.Random) -> str:
    return " ".join([rng.choice(OPENERS), rng.choice(MIDDLES), rng.choice(ACTIONS), rng.choice(CLOSERS)])


def make_pairs(source: Path, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for line in source.read_text(encoding="utf-8").splitlines():
        messages = json.loads(line)["messages"]
        rows.append(
            {
                "prompt": messages[:-1],
                "chosen": [messages[-1]],
                "rejected": [{"role": "assistant", "content": chatty_answer(rng)}],
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=HERE / "support_summaries.jsonl")
    parser.add_argument("--out", type=Path, default=HERE / "support_preferences.jsonl")
    parser.add_argument("--seed", type=int, default=20261130)
    args = parser.parse_args()
    rows = make_pairs(args.source, args.seed)
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} pairs to {args.out}")


if __name__ == "__main__":
    main()
