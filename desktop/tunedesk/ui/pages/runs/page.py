"""The Runs page: every training run on this machine, its curves, and what to do with it next.

The list and each run's status come from the core (`runs.list_runs`, `summarize_run`: a run whose worker
died without a `finished` event is "crashed"). A run still training in the background, or one that stopped
unexpectedly, is offered at start-up in a banner that does not get in the way.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QFile, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QShowEvent
from PySide6.QtWidgets import (
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from tunedesk.core import status as run_status
from tunedesk.core.paths import runs_dir
from tunedesk.core.protocol import read_events
from tunedesk.core.runs import RunLayout, RunSummary, list_runs
from tunedesk.ui.app_state import AppState
from tunedesk.ui.pages.runs.list_card import RunsListCard
from tunedesk.ui.pages.runs.outcome import outcome_line
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.curves import TrainingCurves
from tunedesk.ui.widgets.error_banner import ErrorBanner
from tunedesk.ui.widgets.page_title import add_page_title


class RunsPage(QWidget):
    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.runs: list[RunSummary] = []
        self._offer: RunSummary | None = None  # the run the banner offers to resume / show
        self._build()
        self._connect()
        self.refresh()
        self._offer_left_runs()

    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(28, 22, 28, 22)
        root.setSpacing(14)
        subtitle = add_page_title(root, "Runs", f"Every training run on this machine, kept in {runs_dir()}.")
        subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner = ErrorBanner()
        self.banner.action_clicked.connect(self._on_banner_action)
        root.addWidget(self.banner)
        self.list_card = RunsListCard()
        self.curves_card = Card("Curves", "Select a run to see how its training went.")
        self.curves = TrainingCurves()
        self.curves_card.body.addWidget(self.curves)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.list_card)
        split.addWidget(self.curves_card)
        split.setSizes([380, 320])
        split.setChildrenCollapsible(False)
        root.addWidget(split, 1)
        c = self.list_card  # short names for the parts the tests drive
        self.table, self.empty = c.table, c.empty
        self.reopen_button, self.resume_button, self.export_button = (
            c.reopen_button,
            c.resume_button,
            c.export_button,
        )
        self.folder_button, self.delete_button = c.folder_button, c.delete_button
        self.report_button, self.forgetting = c.report_button, c.forgetting
        self.compare_button = c.compare_button

    def _connect(self) -> None:
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.doubleClicked.connect(lambda _index: self.reopen())
        self.reopen_button.clicked.connect(self.reopen)
        self.resume_button.clicked.connect(self.resume)
        self.export_button.clicked.connect(self.export)
        self.folder_button.clicked.connect(self.show_folder)
        self.report_button.clicked.connect(self.open_report)
        self.compare_button.clicked.connect(self.compare_selected)
        self.delete_button.clicked.connect(lambda: self.delete_selected(confirm=True))
        self.list_card.refresh_button.clicked.connect(self.refresh)
        self.state.training_changed.connect(lambda _t: self.refresh())

    # ---- list ---------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        selected = {str(r.path) for r in self.selected_runs()}
        self.runs = list_runs()
        self.table.show_runs(self.runs)
        self.list_card.show_empty(not self.runs)
        # Keep the selection across a refresh; otherwise show the newest run's curves straight away.
        kept = [row for row, run in enumerate(self.runs) if str(run.path) in selected]
        if kept:
            self.table.select_rows(kept)
        elif self.runs:
            self.table.selectRow(0)
        # Re-selecting the same row emits nothing: reload its curves anyway (a run that was training when
        # it was first selected has more steps now).
        self._on_selection()

    def selected(self) -> RunSummary | None:
        """The selected run when exactly one is selected (what the one-run buttons act on); else None."""
        runs = self.selected_runs()
        return runs[0] if len(runs) == 1 else None

    def selected_runs(self) -> list[RunSummary]:
        return [self.runs[row] for row in self.table.selected_rows() if row < len(self.runs)]

    def select(self, run_dir: str) -> bool:
        for row, run in enumerate(self.runs):
            if str(run.path) == str(run_dir):
                self.table.selectRow(row)
                return True
        return False

    def _on_selection(self) -> None:
        run = self.selected()
        self._update_buttons()
        self.forgetting.setText(outcome_line(run))
        if run is None:
            several = len(self.selected_runs()) > 1
            self.curves.clear()
            self.curves_card.set_title("Curves")
            self.curves_card.set_subtitle(
                "Several runs are selected: select one to see its curves."
                if several
                else "Select a run to see how its training went."
            )
            return
        self.curves_card.set_title(f"Curves of {run.name}")
        self.curves_card.set_subtitle(
            f"{run.model} on {Path(run.data).name}: loss and learning rate by step."
        )
        self.curves.load_events(read_events(RunLayout(run.path).events))

    def _update_buttons(self) -> None:
        run = self.selected()
        busy = self.state.training
        self.reopen_button.setEnabled(run is not None and not busy)
        self.resume_button.setEnabled(run is not None and run.resumable and run.status != "new" and not busy)
        self.export_button.setEnabled(run is not None and run.has_adapter)
        self.folder_button.setEnabled(run is not None)
        self.report_button.setEnabled(run is not None and run.status in run_status.FINISHED)
        self.delete_button.setEnabled(run is not None and not run_status.is_active(run.status))
        self.compare_button.setEnabled(len(self.selected_runs()) == 2)
        if busy:
            self.reopen_button.setToolTip("A run is training: wait for it, or cancel it, first.")
        if run is not None and not run.has_adapter:
            self.export_button.setToolTip("This run has no finished adapter to export yet.")

    # ---- actions ------------------------------------------------------------------------------------------
    def reopen(self) -> None:
        run = self.selected()
        if run is None or self.state.training:
            return
        self.state.request_open(str(run.path))

    def resume(self) -> None:
        run = self.selected()
        if run is not None and not self.state.training:
            self.state.request_resume(str(run.path))

    def export(self) -> None:
        run = self.selected()
        if run is not None:
            self.state.set_run_dir(str(run.path))
            self.state.go_to("export")

    def open_report(self) -> Path | None:
        """Write the selected run's report.html afresh from its events and open it in the browser."""
        from tunedesk.core.report.build import write_report

        run = self.selected()
        if run is None:
            return None
        html = write_report(run.path)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(html)))
        return html

    def compare_selected(self) -> Path | None:
        """Write the two selected runs side by side into the data folder's reports and open it."""
        from tunedesk.core.report.build import write_comparison

        runs = self.selected_runs()
        if len(runs) != 2:
            return None
        try:
            html = write_comparison([r.path for r in runs])
        except OSError as err:
            self.state.show_status(f"Could not write the comparison: {err}. Check that the disk has room.")
            return None
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(html)))
        return html

    def show_folder(self) -> None:
        run = self.selected()
        if run is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(run.path)))

    def delete_selected(self, *, confirm: bool = True) -> bool:
        run = self.selected()
        if run is None or run_status.is_active(run.status):
            return False
        if confirm:
            answer = QMessageBox.question(
                self,
                "Delete run",
                f"Delete the run “{run.name}”?\n\nIts checkpoints and adapter go to the trash "
                "(or are deleted where there is no trash).",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        # The trash first, so a slip can be undone; a plain delete where the platform has none.
        trashed = QFile.moveToTrash(str(run.path))
        if isinstance(trashed, tuple):  # (ok, path in trash) in some PySide6 versions
            trashed = trashed[0]
        if not trashed and run.path.exists():
            shutil.rmtree(run.path, ignore_errors=True)
        if self.state.run_dir == str(run.path):
            self.state.set_run_dir("")
        self.state.show_status(f"Deleted the run {run.name}.")
        self.refresh()
        return True

    # ---- left-over runs -----------------------------------------------------------------------------------
    def _offer_left_runs(self) -> None:
        """At start-up: a run still training in the background, or one that stopped unexpectedly."""
        running = [r for r in self.runs if run_status.is_active(r.status)]
        crashed = [r for r in self.runs if r.status == "crashed" and r.resumable]
        if running:
            run, action = running[0], "Show it"
            lines = (
                f"“{run.name}” is still training in the background.",
                "Open it to watch its progress and control it.",
                "A run is still training in the background: see Runs.",
            )
        elif crashed:
            run, action = crashed[0], "Resume"
            lines = (
                f"“{run.name}” stopped unexpectedly at step {run.step}.",
                "It has a checkpoint: training can continue from there.",
                "A run stopped unexpectedly: see Runs to resume it.",
            )
        else:
            return
        self._offer = run
        self.banner.show_info(lines[0], lines[1], action=action)
        self.state.show_status(lines[2])

    def _on_banner_action(self) -> None:
        run, self._offer = self._offer, None
        self.banner.hide()
        if run is None:
            return
        if run_status.is_active(run.status):
            self.state.request_open(str(run.path))
        else:
            self.state.request_resume(str(run.path))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.refresh()  # runs may have changed while another page was shown
