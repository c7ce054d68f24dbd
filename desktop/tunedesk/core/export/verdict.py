"""The export check in plain words: one sentence up front, then each figure with a line saying what it means.

Reads the flat summary dict of a verification report (verification.json's "summary", the verify stage's
detail) and nothing else, so it keeps working while the report's metrics change: a key it does not know is
still listed, under a readable name, and a missing key is simply left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tunedesk.core.formatting import percent, plain_number

# Known figures: key -> (name, what it means, how to show it). Keys matched by substring come after.
_KNOWN: dict[str, tuple[str, str, str]] = {
    "chat_template": ("Chat template kept", "The file carries the conversation format it was trained with.", "yes"),
    "stops_at_end_of_turn": ("Stops after its answer", "It ends its turn instead of rambling on.", "yes"),
    "tokenizer_match": ("Same word pieces", "llama.cpp splits text into the same tokens as the trained model.", "%"),
    "agreement": ("Answers word for word the same",
                  "Rounding makes some answers differ in wording; that alone is normal.", "%"),
    "token_agreement": ("Answer tokens in common", "How much of the answers' wording the two share.", "%"),
    "stop_rate": ("Answers that stopped cleanly (GGUF)", "Share of answers that ended at the end of the turn.", "%"),
    "stop_rate_merged": ("Answers that stopped cleanly (trained model)", "The same for the trained model.", "%"),
    "perplexity_merged": ("Perplexity, trained model", "How surprised it is by held-out answers (lower is better).",
                          "n"),
    "perplexity_gguf": ("Perplexity, GGUF", "The same for the file: close to the trained model's is good.", "n"),
    "prompts": ("Prompts checked", "Held-out questions both models answered.", "n"),
    "kl_divergence": ("Difference in next-word probabilities",
                      "Averaged over held-out answers: 0 means identical; small values are normal.", "n"),
    "top1_agreement": ("Same most likely next word",
                       "How often the file and the trained model pick the same next word.", "%"),
    "perplexity_ratio": ("Perplexity, file vs trained model",
                         "1.00 means equally sure of the held-out answers; a little above 1 is normal.", "n"),
    "scored_tokens": ("Answer tokens compared", "Held-out answer tokens both models read.", "n"),
    "vocab_match": ("Same vocabulary", "The file knows exactly the words the trained model knows.", "yes"),
}  # fmt: skip
_BY_PART: tuple[tuple[str, str, str, str], ...] = (
    ("kl", "Difference in next-word probabilities", "0 means identical; small values are normal.", "n"),
    ("top1", "Same most likely next word", "How often both pick the same next word.", "%"),
    ("top_1", "Same most likely next word", "How often both pick the same next word.", "%"),
    ("perplexity", "Perplexity", "How surprised the model is by held-out answers (lower is better).", "n"),
)
_HIDDEN = {"passed", "end_of_turn_token", "verdict"}  # verdict: said in the sentence


@dataclass
class Figure:
    name: str
    value: str
    meaning: str


def verification_verdict(summary: dict[str, Any] | None) -> str:
    """One sentence a newcomer can act on."""
    summary = summary or {}
    passed = summary.get("passed")
    if passed is True:
        closeness = _first(summary, ("top1_agreement", "top1", "top_1", "token_agreement"))
        how = f", choosing the same words {percent(closeness)} of the time" if closeness is not None else ""
        return f"The GGUF file works: it behaves like the trained model{how}. Ready to use."
    if passed is False:
        why = f" ({summary['verdict']})" if summary.get("verdict") else ""
        return f"The GGUF file does not behave like the trained model, so it was set aside{why}."
    return "The GGUF file was checked; the figures are under Details."


def verification_figures(summary: dict[str, Any] | None) -> list[Figure]:
    """Every figure of the summary, each with its plain meaning; unknown keys under a readable name."""
    figures = []
    for key, value in (summary or {}).items():
        if key in _HIDDEN or isinstance(value, (dict, list)):
            continue
        name, meaning, kind = _describe(key)
        figures.append(Figure(name, _show(value, kind), meaning))
    return figures


def _describe(key: str) -> tuple[str, str, str]:
    if key in _KNOWN:
        return _KNOWN[key]
    flat = key.lower().replace("-", "_")
    for part, name, meaning, kind in _BY_PART:
        if part in flat:
            return f"{name} ({key.replace('_', ' ')})", meaning, kind
    return key.replace("_", " ").capitalize(), "", "n"


def _show(value: Any, kind: str) -> str:
    if value is None:
        return "not measured"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return percent(value) if kind == "%" and 0 <= value <= 1 else plain_number(value, decimals=3)
    return str(value)


def _first(summary: dict[str, Any], parts: tuple[str, ...]) -> float | None:
    for part in parts:
        for key, value in summary.items():
            if part in key.lower() and isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
    return None
