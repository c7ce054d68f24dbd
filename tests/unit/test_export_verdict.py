"""The export check's plain verdict, on today's summary, on a failed one, and on metrics it does not know."""

from __future__ import annotations

from tunedesk.core.export.verdict import verification_figures, verification_verdict

TODAY = {
    "passed": True, "chat_template": True, "end_of_turn_token": "<|im_end|>", "stops_at_end_of_turn": True,
    "stop_rate": 1.0, "stop_rate_merged": 1.0, "agreement": 0.5, "token_agreement": 0.91,
    "tokenizer_match": 1.0, "perplexity_merged": 1.84, "perplexity_gguf": 1.86, "prompts": 8,
}  # fmt: skip


def test_a_pass_with_half_the_answers_worded_differently_reads_as_a_pass() -> None:
    verdict = verification_verdict(TODAY)
    assert verdict == (
        "The GGUF file works: it behaves like the trained model, choosing the same words 91 % of the time. "
        "Ready to use."
    )
    figures = {f.name: f for f in verification_figures(TODAY)}
    same = figures["Answers word for word the same"]
    assert same.value == "50 %" and "normal" in same.meaning  # no longer reads as a contradiction
    assert figures["Perplexity, GGUF"].value == "1.86" and figures["Prompts checked"].value == "8"
    assert "Passed" not in " ".join(figures) and "End of turn token" not in figures


def test_a_failure_says_so_first() -> None:
    assert verification_verdict({**TODAY, "passed": False}).startswith("The GGUF file does not behave")


def test_new_metrics_and_missing_keys_degrade_gracefully() -> None:
    new = {"passed": True, "mean_kl": 0.012, "top1_agreement": 0.97, "perplexity_ratio": 1.01, "speed": "x"}
    assert "97 %" in verification_verdict(new)
    figures = {f.name: f for f in verification_figures(new)}
    assert figures["Same most likely next word (top1 agreement)"].value == "97 %"
    assert figures["Difference in next-word probabilities (mean kl)"].value == "0.012"
    assert figures["Speed"].value == "x" and figures["Speed"].meaning == ""
    assert verification_verdict(None) == "The GGUF file was checked; the figures are under Details."
    assert verification_figures({"passed": True, "top1": None})[0].value == "not measured"
