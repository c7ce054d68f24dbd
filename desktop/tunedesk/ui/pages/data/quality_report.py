"""The Data page's report card: core's quality report of a dataset as numbers, a histogram, problems and tips.

The report is core's (`inspect_dataset(...).to_dict()`, or `tunedesk data inspect --json` with token counts);
this card only lays it out. Each problem keeps its source line, so the page can show that line when clicked.
"""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QWidget

from tunedesk.ui.pages.data.histogram import TokenHistogram
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.help_label import help_label
from tunedesk.ui.widgets.metric_tile import add_metric

STAT_LABELS = (
    ("total_rows", "Rows"),
    ("usable_rows", "Usable"),
    ("duplicates", "Duplicates"),
    ("long_rows", "Truncated"),
    ("total_tokens", "Total tokens"),
)
LINE_ROLE = Qt.ItemDataRole.UserRole  # a problem item's source line (None when it has none)


def problem_text(problem: dict[str, Any]) -> str:
    """One problem as a list line: a mark for its severity, where it is, and what is wrong."""
    where = " · ".join(
        str(x)
        for x in (
            problem.get("source"),
            problem.get("line") and f"line {problem['line']}",
            problem.get("field"),
        )
        if x
    )
    mark = "✕" if problem.get("severity") == "error" else "⚠"
    return f"{mark}  {where or 'file'}: {problem.get('message', '')}"


class QualityReport(Card):
    """Counts, token histogram, a note on tokens, the problems by line, and core's suggestions."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Quality report", parent=parent)
        lay = self.body
        grid = QGridLayout()
        self.stat_values: dict[str, QLabel] = {}
        for i, (key, text) in enumerate(STAT_LABELS):
            self.stat_values[key] = add_metric(grid, i, text, Qt.AlignmentFlag.AlignHCenter)
        lay.addLayout(grid)
        self.histogram = TokenHistogram()
        self.histogram.hide()  # shown once the tokens are counted: an empty plot only confuses
        lay.addWidget(self.histogram, 1)
        self.token_note = help_label("")
        lay.addWidget(self.token_note)
        self.problems_title = QLabel("Problems: click one to see its line")
        set_role(self.problems_title, "heading")
        self.problems = QListWidget()
        self.problems.setWordWrap(True)
        self.problems.setSpacing(3)
        lay.addWidget(self.problems_title)
        lay.addWidget(self.problems, 1)
        self.suggestions = QLabel("")
        self.suggestions.setWordWrap(True)
        lay.addWidget(self.suggestions)
        # Offered only when core's advice says training may not pay (the report's "try_prompt" draft).
        self.try_prompt_button = QPushButton("Try a system prompt in Chat first")
        self.try_prompt_help = help_label(
            "Opens the Chat page on the base model with a system prompt drafted from your rows: if it already "
            "answers well, you need no training."
        )
        for w in (self.try_prompt_button, self.try_prompt_help):
            lay.addWidget(w)
            w.hide()
        self.try_prompt = ""

    def clear(self) -> None:
        """A new file is being read: no problems, histogram, note or suggestions yet."""
        self.problems.clear()
        self.histogram.clear_data()
        self.histogram.hide()
        self.token_note.setText("")
        self.suggestions.setText("")
        self._offer_prompt("")

    def show_report(self, report: dict[str, Any]) -> None:
        values = dict(report)
        values["duplicates"] = sum(len(g) - 1 for g in report.get("duplicates") or [])
        if not report.get("tokens"):
            values["long_rows"] = values["total_tokens"] = None
        for key, label in self.stat_values.items():
            value = values.get(key)
            label.setText("–" if value is None else f"{value:,}")
        self.histogram.set_report_tokens(report.get("tokens"), report.get("seq_len"))
        self.histogram.setVisible(bool(report.get("tokens")))
        if report.get("tokens"):
            t = report["tokens"]
            self.token_note.setText(
                f"Tokens per example: median {t['p50']}, 95% under {t['p95']}, longest {t['max']}."
            )
        tips = report.get("suggestions") or []
        self.suggestions.setText(
            "<b>Suggestions</b><br>" + "<br>".join(f"• {escape(t)}" for t in tips) if tips else ""
        )
        self._offer_prompt(report.get("try_prompt") or "")
        self.problems.clear()
        for p in report.get("problems") or []:
            item = QListWidgetItem(problem_text(p))
            item.setData(LINE_ROLE, p.get("line"))
            self.problems.addItem(item)
        count = self.problems.count()
        self.problems_title.setText(
            f"Problems ({count}): click one to see its line" if count else "✓  No problems found"
        )
        set_role(self.problems_title, "heading" if count else "good")
        self.problems.setVisible(bool(count))

    def _offer_prompt(self, draft: str) -> None:
        self.try_prompt = draft
        self.try_prompt_button.setVisible(bool(draft))
        self.try_prompt_help.setVisible(bool(draft))
