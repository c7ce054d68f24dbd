"""Photograph every page at 1440x900 and 1024x640, light and dark, into docs/screenshots/ (PNG).

    xvfb-run -s "-screen 0 1600x1000x24" python3 docs/screenshots/take_screenshots.py [RUN_DIR]

Uses the real app window on the starter model and the sample data; RUN_DIR (a finished run folder, e.g.
from `tunedesk self-test --keep DIR`) is shown on the Train, Export and Runs pages. Set TUNEDESK_HOME to a
scratch folder so the pictures show no one's own runs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

OUT = Path(__file__).resolve().parent
SIZES = ((1440, 900), (1024, 640))


def settle(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.02)


def main() -> int:
    QCoreApplication.setOrganizationName("TuneDeskScreenshots")
    QCoreApplication.setApplicationName("TuneDeskScreenshots")
    app = QApplication(sys.argv[:1])
    from tunedesk.core.paths import sample_dataset
    from tunedesk.ui.app_state import PAGE_NAMES
    from tunedesk.ui.main_window import MainWindow
    from tunedesk.ui.style import apply_theme

    apply_theme(app, "light")
    window = MainWindow()
    window.state.set_model_ref("starter")
    window.state.set_data_path(str(sample_dataset()))
    window.show()
    deadline = time.monotonic() + 120
    while not window.train_page.settings.advised and time.monotonic() < deadline:
        settle(0.5)
    run = sys.argv[1] if len(sys.argv) > 1 else ""
    if run:
        window.state.request_open(run)
        window.state.set_run_dir(run)
        window.runs_page.refresh()
        window.runs_page.select(run)
    settle(3)
    for theme in ("light", "dark"):
        window.set_theme(theme)
        for width, height in SIZES:
            window.resize(width, height)
            for name in PAGE_NAMES:
                window.stack.setCurrentIndex(PAGE_NAMES.index(name))
                window.sidebar.setCurrentRow(PAGE_NAMES.index(name))
                settle(1.5)
                path = OUT / f"{name}-{width}x{height}-{theme}.png"
                window.grab().save(str(path))
                print(path.name, window.width(), window.height(), flush=True)
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
