"""A run's before/after report as plain data, read only from its events and config (so it matches them).

``build_report(run_dir)`` -> dict with: run (name, folder, status, model, data), task (base and best/final
validation loss, the loss curve), general (the forgetting measure and its verdict), answers (held-out task
prompts: the base model's answer at step 0 next to the tuned model's at the last check), settings (the
preset), timings. ``write_report`` stores report.json and report.html in the run folder; ``write_comparison``
writes several runs side by side into one HTML file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tunedesk.core.atomic import write_json_atomic, write_text_atomic
from tunedesk.core.protocol import read_events
from tunedesk.core.report.verdict import forgetting_verdict
from tunedesk.core.runs import RunLayout, summarize_run

REPORT_JSON, REPORT_HTML = "report.json", "report.html"


def build_report(run_dir: str | Path) -> dict[str, Any]:
    layout = RunLayout(Path(run_dir))
    summary = summarize_run(layout.root)
    try:
        config = json.loads(layout.config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    events = read_events(layout.events)
    started = _last(events, "started")
    finished = _last(events, "finished")
    evals = [e for e in events if e["event"] == "eval"]
    steps = [e for e in events if e["event"] == "step"]
    preset = config.get("preset", {})
    fraction = float(preset.get("general_data_fraction", 0.0) or 0.0)
    forgetting = finished.get("forgetting")
    verdict = forgetting_verdict(forgetting, fraction)
    base_eval = next((e for e in evals if e.get("step") == 0), {})
    last_eval = evals[-1] if evals and evals[-1].get("step") else {}
    return {
        "run": {
            "name": summary.name,
            "folder": str(layout.root),
            "status": summary.status,
            "model": summary.model,
            "data": summary.data,
        },
        "task": {
            "base_val_loss": finished.get("base_val_loss", base_eval.get("val_loss")),
            "best_val_loss": finished.get("best_val_loss"),
            "final_val_loss": last_eval.get("val_loss"),
            "curve": [[e["step"], e["val_loss"]] for e in evals if e.get("val_loss") is not None],
            "train_curve": [[e["step"], e["loss"]] for e in steps if e.get("loss") is not None],
        },
        "general": {
            "general_data_fraction": fraction,
            "general_examples": started.get("general_examples", 0),
            "general_loss_base": (forgetting or {}).get("general_loss_base"),
            "general_loss_tuned": (forgetting or {}).get("general_loss_tuned"),
            "prompts": (forgetting or {}).get("prompts"),
            "verdict": verdict.text if verdict else "General ability: not measured for this run.",
            "level": verdict.level if verdict else None,
            "remedy": verdict.remedy if verdict else "",
        },
        "answers": _answers(base_eval, last_eval),
        "settings": preset,
        "timings": {
            "steps": finished.get("steps", summary.step),
            "total_steps": started.get("total_steps", summary.total_steps),
            "elapsed_seconds": finished.get("elapsed"),
            "tokens_per_second": steps[-1].get("tokens_per_second") if steps else None,
            "forgetting_seconds": (forgetting or {}).get("seconds"),
            "train_examples": started.get("train_examples"),
            "val_examples": started.get("val_examples"),
            "device": started.get("device"),
        },
    }


def _last(events: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next((e for e in reversed(events) if e["event"] == kind), {})


def _answers(base_eval: dict[str, Any], last_eval: dict[str, Any]) -> list[dict[str, str]]:
    tuned = {s["prompt"]: s for s in last_eval.get("samples") or []}
    out = []
    for s in base_eval.get("samples") or []:
        after = tuned.get(s["prompt"], {})
        out.append(
            {"prompt": s["prompt"], "reference": s.get("reference", ""), "base": s.get("answer", ""),
             "tuned": after.get("answer", "")}
        )  # fmt: skip
    return out


def write_report(run_dir: str | Path) -> Path:
    """RUN_DIR/report.html (and report.json beside it); returns the HTML's path."""
    from tunedesk.core.report.html import render_run_html

    root = Path(run_dir)
    report = build_report(root)
    write_json_atomic(root / REPORT_JSON, report)
    return write_text_atomic(root / REPORT_HTML, render_run_html(report))


def write_comparison(run_dirs: list[str | Path], out: str | Path | None = None) -> Path:
    """The runs side by side as one HTML file; by default <home>/reports/compare-<run>-vs-<run>.html."""
    from tunedesk.core.paths import reports_dir
    from tunedesk.core.report.html import render_compare_html

    reports = [build_report(d) for d in run_dirs]
    target = (
        Path(out)
        if out
        else reports_dir() / ("compare-" + "-vs-".join(Path(d).name for d in run_dirs) + ".html")
    )
    return write_text_atomic(target, render_compare_html(reports))
