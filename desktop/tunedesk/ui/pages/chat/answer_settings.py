"""The Chat page's answer settings: system prompt, temperature, top-p and the longest answer, each explained."""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QPlainTextEdit, QSpinBox, QWidget

from tunedesk.ui.widgets.card import Card
from tunedesk.ui.widgets.help_label import help_label

DEFAULT_SYSTEM = "You are a helpful assistant."
EXAMPLE = "e.g. You are a helpful assistant. Answer briefly."
TRAINED_WITHOUT = "None: this model was trained without one, so none is sent."
HELP = {
    "temperature": "Higher gives more varied answers; lower gives focused, repeatable ones (0: always the likeliest word).",
    "top_p": "Picks only among the likeliest words that together make up this share; lower keeps answers on track.",
    "max_tokens": "Longest answer allowed, in tokens (a token is about three quarters of a word).",
    "system": "Standing instructions the model reads before every message; changing them starts a new chat.",
}


class AnswerSettings(Card):
    """The sampling values the user picks; the page reads them when it sends a message."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Answer settings", parent=parent)
        lay = self.body
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setPlaceholderText(EXAMPLE)
        # A plain default: small models answer far worse with no system prompt at all.
        self.system_prompt.setPlainText(DEFAULT_SYSTEM)
        self._model: str | None = None
        self._default = DEFAULT_SYSTEM
        self._typed: dict[str, str] = {}  # per model: a prompt the user wrote, kept when they come back to it
        self.system_prompt.setFixedHeight(70)
        self.temperature = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=2.0, singleStep=0.1, value=0.7)
        self.top_p = QDoubleSpinBox(decimals=2, minimum=0.05, maximum=1.0, singleStep=0.05, value=0.9)
        self.max_tokens = QSpinBox(minimum=8, maximum=4096, singleStep=32, value=256)
        lay.addWidget(QLabel("System prompt"))
        lay.addWidget(self.system_prompt)
        lay.addWidget(help_label(HELP["system"]))
        for name, label, widget in (
            ("temperature", "Temperature", self.temperature),
            ("top_p", "Top-p", self.top_p),
            ("max_tokens", "Max answer length", self.max_tokens),
        ):
            row = QHBoxLayout()
            row.addWidget(QLabel(label), 1)
            row.addWidget(widget)
            lay.addSpacing(6)
            lay.addLayout(row)
            lay.addWidget(help_label(HELP[name]))
        lay.addStretch(1)
        self.setMinimumWidth(260)

    def switch_model(self, path: str, default: str, *, trained_without: bool = False) -> None:
        """Show `path`'s system prompt: the one the user wrote for it earlier, else `default` (its own: no
        model's prompt carries over to another). `trained_without`: an empty default means none is sent."""
        if self._model is not None:
            text = self.system_text()
            if text != self._default:
                self._typed[self._model] = text
            else:
                self._typed.pop(self._model, None)
        self._model, self._default = path, default
        self.system_prompt.setPlaceholderText(TRAINED_WITHOUT if trained_without else EXAMPLE)
        self.system_prompt.setPlainText(self._typed.get(path, default))

    def system_text(self) -> str:
        return self.system_prompt.toPlainText().strip()

    def params(self) -> dict[str, float | int]:
        """The sampling keyword arguments of `ChatPane.ask`."""
        return {
            "temperature": self.temperature.value(),
            "top_p": self.top_p.value(),
            "max_tokens": self.max_tokens.value(),
        }
