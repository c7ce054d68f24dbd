"""The report as one self-contained HTML file (inline CSS and SVG): opens offline in any browser."""

from __future__ import annotations

from html import escape
from typing import Any

from tunedesk.core.formatting import duration
from tunedesk.core.report.svg import bar_chart, line_chart

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#111}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:4px 8px;"
    "vertical-align:top;text-align:left}th{background:#f3f4f6}.verdict{font-weight:600}"
    ".charts svg{margin-right:1em}pre{white-space:pre-wrap;margin:0}"
)


def _num(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else escape(str(value))


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...] | None = None) -> str:
    head = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def render_run_html(report: dict[str, Any]) -> str:
    run, task, general, timings = report["run"], report["task"], report["general"], report["timings"]
    charts = bar_chart(
        "Task validation loss (lower is better)",
        [("base", task["base_val_loss"]), ("best", task["best_val_loss"]), ("final", task["final_val_loss"])],
    ) + bar_chart(
        "General loss on held-out prompts",
        [("base", general["general_loss_base"]), ("tuned", general["general_loss_tuned"])],
    )
    curves = line_chart("Loss by step", {"validation": task["curve"], "training": task["train_curve"]})
    answers = _table(
        [
            tuple(f"<pre>{escape(a[k])}</pre>" for k in ("prompt", "reference", "base", "tuned"))
            for a in report["answers"]
        ],
        ("Held-out prompt", "Expected", "Base model", "Tuned model"),
    )
    elapsed = timings["elapsed_seconds"]
    body = (
        f"<h1>Run report: {escape(run['name'])}</h1>"
        + _table([(escape(k), escape(str(run[k]))) for k in ("status", "model", "data", "folder")])
        + "<h2>What training did</h2>"
        + f'<p class="verdict">{escape(general["verdict"])}</p>'
        + (f"<p>{escape(general['remedy'])}</p>" if general["remedy"] else "")
        + _table(
            [
                ("Task validation loss, base model", _num(task["base_val_loss"])),
                ("Task validation loss, best", _num(task["best_val_loss"])),
                ("Task validation loss, last check", _num(task["final_val_loss"])),
                ("General loss, base model", _num(general["general_loss_base"])),
                ("General loss, tuned model", _num(general["general_loss_tuned"])),
                ("General rows mixed into training", _num(general["general_examples"])),
                ("General data fraction", _num(general["general_data_fraction"])),
            ]
        )
        + f'<div class="charts">{charts}{curves}</div>'
        + "<h2>Held-out task answers</h2>"
        + (answers if report["answers"] else "<p>No sample answers were recorded (sample_prompts=0).</p>")
        + "<h2>Timings</h2>"
        + _table(
            [
                ("Steps", f"{_num(timings['steps'])} of {_num(timings['total_steps'])}"),
                ("Training time", duration(elapsed) if elapsed is not None else "-"),
                ("Tokens per second (last step)", _num(timings["tokens_per_second"])),
                ("Forgetting measure took (s)", _num(timings["forgetting_seconds"])),
                (
                    "Examples (train / validation)",
                    f"{_num(timings['train_examples'])} / {_num(timings['val_examples'])}",
                ),
                ("Device", _num(timings["device"])),
            ]
        )
        + "<h2>Settings</h2>"
        + _table([(escape(k), _num(v)) for k, v in report["settings"].items()])
    )
    return _page(f"TuneDesk report: {run['name']}", body)


COMPARE_ROWS = (
    ("Status", ("run", "status")),
    ("Model", ("run", "model")),
    ("Task val loss, base", ("task", "base_val_loss")),
    ("Task val loss, best", ("task", "best_val_loss")),
    ("General loss, base", ("general", "general_loss_base")),
    ("General loss, tuned", ("general", "general_loss_tuned")),
    ("General ability", ("general", "level")),
    ("General data fraction", ("general", "general_data_fraction")),
    ("General rows", ("general", "general_examples")),
    ("Steps", ("timings", "steps")),
    ("Training time (s)", ("timings", "elapsed_seconds")),
)


def compare_rows(reports: list[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    """(label, one value per run) for the comparison table: shared by the HTML and the CLI's text."""
    return [(label, [r[a][b] for r in reports]) for label, (a, b) in COMPARE_ROWS]


def render_compare_html(reports: list[dict[str, Any]]) -> str:
    names = tuple(r["run"]["name"] for r in reports)
    rows = [(escape(label), *(_num(v) for v in values)) for label, values in compare_rows(reports)]
    settings = sorted({k for r in reports for k in r["settings"]})
    differing = [
        (escape(k), *(_num(r["settings"].get(k)) for r in reports))
        for k in settings
        if len({json_key(r["settings"].get(k)) for r in reports}) > 1
    ]
    chart = bar_chart(
        "General loss, tuned (lower: less forgetting)",
        [(r["run"]["name"][:12], r["general"]["general_loss_tuned"]) for r in reports],
    )
    body = (
        "<h1>Runs side by side</h1>"
        + _table(rows, ("", *names))
        + f'<div class="charts">{chart}</div>'
        + "<h2>Settings that differ</h2>"
        + (_table(differing, ("", *names)) if differing else "<p>None.</p>")
    )
    return _page("TuneDesk: runs compared", body)


def json_key(value: Any) -> str:
    return repr(value)
