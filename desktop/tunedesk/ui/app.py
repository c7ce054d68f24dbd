"""`tunedesk` with no arguments (and `tunedesk-gui`, `python -m tunedesk.ui.app`): start the desktop app.

Start-up imports only Qt, pyqtgraph and the Qt-free core: torch, transformers and llama_cpp stay out of this
process (workers and `tunedesk ... --json` subprocesses load them), so the window opens at once.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QSettings, Qt
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from tunedesk import __version__
from tunedesk.core.offline import enforce_offline

ORGANIZATION = "TuneDesk"
APPLICATION = "TuneDesk"


def main(argv: list[str] | None = None) -> int:
    enforce_offline()
    argv = sys.argv[1:] if argv is None else argv
    # High DPI: Qt 6 scales by default; pass fractional factors through instead of rounding (sharp text
    # at 125 % / 150 %).
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication(["tunedesk", *argv])
    assert isinstance(app, QApplication)
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QCoreApplication.setApplicationVersion(__version__)
    QGuiApplication.setApplicationDisplayName("TuneDesk")
    QGuiApplication.setDesktopFileName("tunedesk")  # matches resources/tunedesk.desktop (Wayland icons)

    from tunedesk.ui.main_window import MainWindow
    from tunedesk.ui.sidebar import icon_path
    from tunedesk.ui.style import apply_theme, theme_is_dark
    from tunedesk.ui.wheel_guard import install_wheel_guard

    app.setWindowIcon(QIcon(str(icon_path("tunedesk.svg"))))
    theme = str(QSettings().value("theme", "system"))
    app.setProperty("tunedesk_dark", theme_is_dark(theme))  # what is_dark() answers while the pages are built
    hints = QGuiApplication.styleHints()
    if hasattr(hints, "colorSchemeChanged"):
        # Follow the desktop when the user switches light/dark, unless a theme was picked in View > Theme.
        hints.colorSchemeChanged.connect(
            lambda _scheme: (
                str(QSettings().value("theme", "system")) == "system" and apply_theme(app, "system")
            )
        )
    window = MainWindow()
    # The stylesheet and the wheel guard come once the widgets exist: set before, every widget added to a
    # layout was styled again and every construction event went through the guard (a third of start-up).
    apply_theme(app, theme)
    install_wheel_guard(app, window)  # a wheel edits a field only when the field has focus
    window.show()
    code = int(app.exec())
    from tunedesk.ui.pages.chat.chat_session import end_all_sessions

    end_all_sessions()  # no chat thread or model is left for the interpreter's exit to tear down
    return code


if __name__ == "__main__":
    raise SystemExit(main())
