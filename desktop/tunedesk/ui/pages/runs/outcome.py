"""The selected run's outcome in words, under the Runs page's buttons: how much general ability it kept
(core/report/verdict.py), and whether the base model already did well before training (core/data/advice.py)."""

from __future__ import annotations

from tunedesk.core.runs import RunSummary


def outcome_line(run: RunSummary | None) -> str:
    """The forgetting verdict with its remedy, and the base model's step-0 advice; '' when neither applies."""
    from tunedesk.core.data.advice import base_already_good

    if run is None:
        return ""
    lines = [forgetting_line(run)]
    good = base_already_good(run.base_val_loss)
    if good is not None:
        lines.append(f"{good.message} {good.action}")
    return "\n".join(line for line in lines if line)


def forgetting_line(run: RunSummary) -> str:
    """'General ability: ...' for a run with a forgetting measure, with the remedy when it dropped; else ''."""
    from tunedesk.core.errors import TuneDeskError
    from tunedesk.core.report.verdict import forgetting_verdict
    from tunedesk.core.runs import load_config

    if not run.forgetting:
        return ""
    try:
        fraction = load_config(run.path).preset.general_data_fraction
    except (TuneDeskError, OSError):
        fraction = 0.0
    verdict = forgetting_verdict(run.forgetting, fraction)
    if verdict is None:
        return ""
    return verdict.text + (f" {verdict.remedy}" if verdict.remedy else "")
