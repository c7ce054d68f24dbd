"""The Help menu's windows: the installation check, where files are kept, the privacy promise, About.

The installation check runs `tunedesk self-test` (cli/selftest_cmd.py) as a child through WorkerProcess, so
the window stays responsive for the minutes it takes; each "[ok  ] name ..." line it prints moves the progress
bar, and its exit status is the verdict.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tunedesk.core.launch import cli_command
from tunedesk.core.offline import PRIVACY_PROMISE
from tunedesk.core.paths import file_locations, resources_dir
from tunedesk.ui.process.worker_process import ProcessOutcome, WorkerProcess
from tunedesk.ui.style import set_role

CHECK_NAMES = ("hardware", "tools", "train", "export", "chat")  # selftest_cmd.CHECKS, in order
CHECK_LINE = re.compile(r"^\[(ok  |FAIL)\] (\w+)")


class SelfTestDialog(QDialog):
    """Runs the installation check and shows each step as it finishes, then a one-sentence verdict.

    Signals:
        done(bool): the check ended; True when every step passed.
    """

    done = Signal(bool)

    def __init__(self, parent: QWidget | None = None, command: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Check this installation")
        self.resize(640, 420)
        self.command = command or cli_command("self-test")
        self.passed: bool | None = None
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Trains the starter model for a few steps, exports it and chats with it: every step a real "
            "run takes. A few minutes; you can keep using TuneDesk meanwhile."
        )
        intro.setWordWrap(True)
        self.verdict = QLabel("Checking…")
        set_role(self.verdict, "heading")
        self.progress = QProgressBar()
        self.progress.setRange(0, len(CHECK_NAMES))
        self.output = QPlainTextEdit(readOnly=True)
        self.output.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        for w in (intro, self.verdict, self.progress, self.output, buttons):
            layout.addWidget(w)
        self.process = WorkerProcess(self)
        self.process.invalid_line.connect(self._on_line)  # self-test prints text, not protocol events
        self.process.stderr_line.connect(self._on_line)
        self.process.finished.connect(self._on_finished)
        self.process.error_occurred.connect(self._on_error)

    def start(self) -> None:
        self.output.clear()
        self.progress.setValue(0)
        self.passed = None
        self.verdict.setText("Checking… (a few minutes)")
        set_role(self.verdict, "heading")
        self.process.start_command(self.command)

    def _on_line(self, line: str) -> None:
        self.output.appendPlainText(line)
        match = CHECK_LINE.match(line)
        if match and match.group(2) in CHECK_NAMES:
            self.progress.setValue(CHECK_NAMES.index(match.group(2)) + 1)
            if match.group(1) == "ok  ":
                self.verdict.setText(f"Checking… {match.group(2)} works.")

    def _on_finished(self, outcome: ProcessOutcome) -> None:
        self._end(outcome.exit_code == 0 and not outcome.crashed)

    def _on_error(self, message: str) -> None:
        self.output.appendPlainText(message)
        self._end(False)

    def _end(self, passed: bool) -> None:
        self.passed = passed
        if passed:
            self.progress.setValue(len(CHECK_NAMES))
            self.verdict.setText("✓ Every step works on this machine: training, export and chat.")
        else:
            self.verdict.setText("✗ Something does not work: the failed step and why are listed below.")
        set_role(self.verdict, "good" if passed else "bad")
        self.done.emit(passed)

    def done_checking(self) -> bool:
        return self.passed is not None

    def reject(self) -> None:
        # Closing the window ends the check: a self-test nobody watches only costs CPU.
        if self.process.is_running():
            self.process.terminate()
        super().reject()


class TextDialog(QDialog):
    """A short read-only text with a Close button (and, optionally, links opened in the browser)."""

    def __init__(self, title: str, html: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(620, 320)
        layout = QVBoxLayout(self)
        self.label = QLabel(html)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        self.label.setOpenExternalLinks(True)
        layout.addWidget(self.label, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def files_dialog(parent: QWidget | None = None) -> TextDialog:
    """Where TuneDesk keeps each kind of file, with a button that opens the main folder."""
    rows = "".join(f"<p><b>{what}</b><br><code>{path}</code></p>" for what, path in file_locations())
    dialog = TextDialog("Where are my files?", rows, parent)
    home = file_locations()[0][1]
    dialog.open_button = QPushButton("Open the folder")
    dialog.open_button.clicked.connect(
        lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(home))) if home.exists() else None
    )
    dialog.layout().insertWidget(1, dialog.open_button, 0, Qt.AlignmentFlag.AlignLeft)
    return dialog


def privacy_dialog(parent: QWidget | None = None) -> TextDialog:
    return TextDialog("Privacy", f"<p>{PRIVACY_PROMISE}</p>", parent)


def readme_tour() -> str:
    """A link to the README's tour of the steps where this installation has the README (a source checkout)."""
    readme = resources_dir().parent / "README.md"
    if readme.is_file():
        url = QUrl.fromLocalFile(str(readme)).toString()
        return f'A tour of every step: <a href="{url}#what-it-does">the README</a>. '
    return ""


def about_dialog(version: str, parent: QWidget | None = None) -> TextDialog:
    return TextDialog(
        "About TuneDesk",
        f"<p><b>TuneDesk {version}</b></p><p>Fine-tune a small language model on your own machine, privately "
        "and offline: choose a model and your data, train, export a GGUF file, and chat with it.</p>"
        f"<p>{readme_tour()}Help &gt; Check this installation says whether every step works here.</p>",
        parent,
    )


class HelpActions(QObject):
    """What the Help menu's entries open, for `window` (the main window)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.self_test: SelfTestDialog | None = None

    def check_installation(self) -> SelfTestDialog:
        """`tunedesk self-test` in a window that shows each step; one check at a time."""
        if self.self_test is None or not self.self_test.process.is_running():
            self.self_test = SelfTestDialog(self.window)
            self.self_test.start()
        self.self_test.show()
        self.self_test.raise_()
        return self.self_test

    def show_files(self) -> QDialog:
        return _show(files_dialog(self.window))

    def show_privacy(self) -> QDialog:
        return _show(privacy_dialog(self.window))

    def show_about(self) -> QDialog:
        from tunedesk import __version__

        return _show(about_dialog(__version__, self.window))


def _show(dialog: QDialog) -> QDialog:
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
