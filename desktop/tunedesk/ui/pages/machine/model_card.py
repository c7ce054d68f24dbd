"""The Machine page's "Base model" card: the model list, the chosen model's facts and whether it exports."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from tunedesk.ui.pages.machine.consent_box import ConsentBox
from tunedesk.ui.pages.machine.model_list import DETAIL_NAMES, ModelList, model_details
from tunedesk.ui.style import set_role
from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.help_label import help_label
from tunedesk.ui.widgets.metric_tile import fact_grid

NO_MODEL_YET = (
    "No model found on this computer yet. Open a model folder or a GGUF file above; "
    "`tunedesk setup` installs the small starter model."
)


class ModelCard(Card):
    """`models` (ModelList), then `detail_values` of the current model and its `export_note`.

    `open_folder_button` and `open_gguf_button` are connected by the page.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "Base model", "The model you fine-tune. The starter model is small and quick to try.", parent
        )
        self.open_folder_button = QPushButton("Open model folder…")
        self.open_gguf_button = QPushButton("Open GGUF file…")
        for button in (self.open_folder_button, self.open_gguf_button):
            self.header.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        self.models = ModelList()
        self.body.addWidget(self.models, 1)
        details, self.detail_values = fact_grid(DETAIL_NAMES)
        self.body.addLayout(details)
        self.export_note = QLabel(" ")
        self.export_note.setWordWrap(True)
        self.body.addWidget(self.export_note)
        self.consent = ConsentBox()  # only for a model that needs the user's consent to train
        self.body.addWidget(self.consent)
        self.body.addWidget(
            help_label(
                "Or drop a model folder (config.json + .safetensors) or a .gguf file anywhere on this page."
            )
        )

    def show_details(self, info: dict[str, Any]) -> None:
        """The current model's facts (dashes while they are read) and core's note on exporting it."""
        for name, value in model_details(info).items():
            self.detail_values[name].setText(value)
        exportable = info.get("exportable")
        mark = {True: "✓ ", False: "⚠ "}.get(exportable, "")
        self.export_note.setText(
            mark + (info.get("export_note") or ("Reading the model…" if not info else ""))
        )
        set_role(self.export_note, {True: "good", False: "bad"}.get(exportable, "help"))

    def show_none_found(self) -> None:
        self.export_note.setText(NO_MODEL_YET)
