"""The main window: the six steps in a sidebar, one page each, plus menus, shortcuts, drops and settings.

The window owns no logic of its own: it shows pages, routes drops and shortcuts to AppState, remembers the
user's choices with QSettings, and asks what to do when it is closed while a run trains.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QIcon
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QMainWindow,
    QScrollArea,
    QStackedWidget,
    QSystemTrayIcon,
    QWidget,
)

from tunedesk.core import status as run_status
from tunedesk.core.paths import runs_dir
from tunedesk.ui.app_state import PAGE_NAMES, AppState
from tunedesk.ui.close_dialog import ask_close_choice
from tunedesk.ui.help_dialogs import HelpActions
from tunedesk.ui.menus import build_menus
from tunedesk.ui.pages.chat.page import ChatPage
from tunedesk.ui.pages.data.page import DataPage
from tunedesk.ui.pages.export.page import ExportPage
from tunedesk.ui.pages.machine.page import MachinePage
from tunedesk.ui.pages.runs.page import RunsPage
from tunedesk.ui.pages.train.page import TrainPage
from tunedesk.ui.plot_theme import restyle_all_plots
from tunedesk.ui.process.worker_process import ProcessOutcome
from tunedesk.ui.sidebar import PageSidebar, icon_path
from tunedesk.ui.style import apply_theme

DATA_SUFFIXES = {".jsonl", ".json", ".csv", ".parquet", ".txt", ".md", ".tsv"}
LONG_RUN_S = 60.0  # runs longer than this end with a desktop notification: the user has likely looked away
STOP_TIMEOUT_MS = 120_000  # a cancel that has not finished after this is ended with SIGTERM


class MainWindow(QMainWindow):
    def __init__(self, state: AppState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state or AppState(self)
        self.settings = QSettings()
        self._close_after_stop = False
        self.help = HelpActions(self)  # the Help menu's windows
        self.setWindowTitle("TuneDesk")
        self.setWindowIcon(QIcon(str(icon_path("tunedesk.svg"))))
        self.setAcceptDrops(True)
        self.setMinimumSize(960, 600)  # a small laptop screen (1024x640) fits
        self._restore_inputs()  # before the pages exist, so they start from the last model and data
        self._build_pages()
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(self.windowIcon(), self)
            self.tray.setToolTip("TuneDesk")

        build_menus(self)
        self._connect()
        self._update_availability()
        self._restore_window()

    def _build_pages(self) -> None:
        self.sidebar = PageSidebar()
        self.stack = QStackedWidget()
        self.machine_page = MachinePage(self.state)
        self.data_page = DataPage(self.state)
        self.train_page = TrainPage(self.state)
        self.export_page = ExportPage(self.state)
        self.chat_page = ChatPage(self.state)
        self.runs_page = RunsPage(self.state)
        self.pages: dict[str, QWidget] = {
            "machine": self.machine_page,
            "data": self.data_page,
            "train": self.train_page,
            "export": self.export_page,
            "chat": self.chat_page,
            "runs": self.runs_page,
        }
        for name in PAGE_NAMES:
            # A page smaller than its content (a small laptop screen) scrolls instead of clipping it.
            scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
            scroll.setWidget(self.pages[name])
            self.stack.addWidget(scroll)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.sidebar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.statusBar().setSizeGripEnabled(True)

    def _connect(self) -> None:
        self.sidebar.currentRowChanged.connect(self._on_sidebar_row)
        s = self.state
        s.navigate.connect(self.go_to)
        s.status_message.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        for signal in (s.model_changed, s.data_changed, s.run_changed, s.training_changed):
            signal.connect(self._update_availability)
        self.train_page.paused_changed.connect(self._update_availability)
        s.model_changed.connect(lambda m: self.settings.setValue("last_model", m))
        s.data_changed.connect(lambda d: self.settings.setValue("last_data", d))
        self.train_page.run_finished.connect(self._on_run_finished)

    # ---- navigation ---------------------------------------------------------------------------------------
    def current_page(self) -> str:
        return PAGE_NAMES[self.stack.currentIndex()]

    def go_to(self, name: str) -> bool:
        """Show a page if its inputs exist; otherwise say in the status bar what is missing."""
        row = PAGE_NAMES.index(name)
        missing = self.missing_for(name)
        if missing:
            self.statusBar().showMessage(missing, 8000)
            return False
        self.sidebar.setCurrentRow(row)
        self.stack.setCurrentIndex(row)
        return True

    def missing_for(self, name: str) -> str:
        """Why a page cannot be opened yet ("" when it can)."""
        if name == "train" and not (self.state.model_ref and self.state.data_path):
            what = " and ".join(
                w
                for w, ok in (("a model", self.state.model_ref), ("a dataset", self.state.data_path))
                if not ok
            )
            return f"Choose {what} first."
        if name == "export" and not (self.state.run_dir or _any_run()):
            return "Train a model first: export turns a finished run into a model file."
        return ""

    def _update_availability(self, *_: object) -> None:
        for name in PAGE_NAMES:
            self.sidebar.set_missing(name, self.missing_for(name))
        running, paused = self.state.training, self.train_page.paused
        self.start_action.setEnabled(not running)
        self.pause_action.setEnabled(running and not paused)
        self.resume_action.setEnabled(running and paused)  # never offered while the run trains
        self.cancel_action.setEnabled(running)

    def _on_sidebar_row(self, row: int) -> None:
        if 0 <= row < len(PAGE_NAMES) and row != self.stack.currentIndex():
            self.stack.setCurrentIndex(row)

    # ---- menus and shortcuts ------------------------------------------------------------------------------
    def start_training(self) -> None:
        if self.go_to("train"):
            self.train_page.start_training()

    def set_theme(self, theme: str) -> None:
        self.settings.setValue("theme", theme)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            restyle_all_plots(apply_theme(app, theme))  # everything at once, the plots included

    # ---- opening things -----------------------------------------------------------------------------------
    def open_data(self) -> None:
        folder = str(self.settings.value("last_data_folder", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open a dataset",
            folder,
            "Datasets (*.jsonl *.json *.csv *.tsv *.parquet *.txt *.md);;All files (*)",
        )
        if path:
            self.open_path(Path(path))

    def open_run_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a run folder", str(runs_dir()))
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> str:
        """Route a file or folder to the page it belongs to; returns that page's name ("" if none)."""
        if path.is_dir() and (path / "config.json").is_file() and (path / "events.jsonl").exists():
            if self.state.training:
                self.statusBar().showMessage("A run is training: open other runs when it ends.", 8000)
                return ""
            self.state.request_open(str(path))  # a TuneDesk run folder
            return "train"
        if path.suffix.lower() == ".gguf" or (path.is_dir() and (path / "config.json").is_file()):
            self.state.set_model_ref(str(path))  # a base model: a GGUF file or a Hugging Face folder
            self.go_to("machine")
            return "machine"
        if path.suffix.lower() in DATA_SUFFIXES or path.is_dir():
            self.settings.setValue("last_data_folder", str(path.parent if path.is_file() else path))
            self.state.set_data_path(str(path))
            self.go_to("data")
            return "data"
        self.statusBar().showMessage(f"TuneDesk does not know what to do with {path.name}.", 8000)
        return ""

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt's name)
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt's name)
        for url in event.mimeData().urls():
            if url.isLocalFile() and self.open_path(Path(url.toLocalFile())):
                event.acceptProposedAction()
                return

    # ---- training ends / window closes --------------------------------------------------------------------
    def _on_run_finished(self, outcome: ProcessOutcome, seconds: float) -> None:
        if self._close_after_stop:
            self.close()
            return
        if seconds < LONG_RUN_S:
            return
        text = f"{run_status.sentence(outcome.status)}."
        self.notify("TuneDesk", text)

    def notify(self, title: str, text: str) -> None:
        """A desktop notification where the desktop has a tray, the status bar otherwise."""
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            self.tray.show()
            self.tray.showMessage(title, text, self.windowIcon(), 10_000)
        QApplication.alert(self)
        self.statusBar().showMessage(text, 30_000)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        if self.train_page.is_training() and not self._close_after_stop:
            choice = self.ask_close_choice()
            if choice == "cancel":
                event.ignore()
                return
            if choice == "stop":
                # Wait for the worker's checkpoint without blocking: close again when it has finished.
                self._close_after_stop = True
                self.train_page.cancel()
                QTimer.singleShot(STOP_TIMEOUT_MS, self.train_page.worker.terminate)
                self.statusBar().showMessage("Saving a checkpoint, then closing…")
                self.setEnabled(False)
                event.ignore()
                return
            self.train_page.detach()  # "keep training": the worker runs on; Runs re-attaches next time
        elif self._close_after_stop and self.train_page.is_training():
            event.ignore()
            return
        self._save_settings()
        for page in self.pages.values():
            # Pages with threads (Chat, Data) end them here: a QThread destroyed while running aborts.
            shutdown = getattr(page, "shutdown", None)
            if callable(shutdown):
                shutdown()
        event.accept()

    def ask_close_choice(self) -> str:
        """'stop' | 'keep' | 'cancel': what to do with the run that is training."""
        return ask_close_choice(self)

    # ---- settings -----------------------------------------------------------------------------------------
    def _restore_inputs(self) -> None:
        model = str(self.settings.value("last_model", "") or "")
        data = str(self.settings.value("last_data", "") or "")
        if model:
            self.state.set_model_ref(model)
        if data and Path(data).exists():
            self.state.set_data_path(data)

    def _restore_window(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1320, 860)
        page = str(self.settings.value("page", "machine"))
        if page not in PAGE_NAMES or not self.go_to(page):
            self.go_to("machine")

    def _save_settings(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("page", self.current_page())
        self.settings.setValue("last_model", self.state.model_ref)
        self.settings.setValue("last_data", self.state.data_path)
        self.settings.sync()


def _any_run() -> bool:
    base = runs_dir()
    return base.is_dir() and any((p / "config.json").is_file() for p in base.iterdir())
