"""A read-only table model over the first rows of a dataset, as core normalised them (`Record.to_dict()`).

Chat rows get role-labelled columns (System / Prompt / Answer), so what the model is asked and what it should
answer are visible at a glance; raw-text rows get one Text column. Every row keeps its source line, so a
problem reported on line N can be found here (`row_for_line`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

PREVIEW_ROWS = 500  # enough to browse; a big file's other rows are in the raw view and the report
CELL_CHARS = 240  # a cell shows the start of long text; the tooltip holds it all

Index = QModelIndex | QPersistentModelIndex


def _joined(messages: list[dict[str, str]], role: str, *, last_only: bool = False) -> str:
    texts = [m.get("content", "") for m in messages if m.get("role") == role]
    if last_only:
        return texts[-1] if texts else ""
    return "\n\n".join(texts)


class PreviewTableModel(QAbstractTableModel):
    """Rows of a dataset for a QTableView.

    Columns: Line, then System / Prompt (user) / Answer (assistant) / Turns for chat data, or Text for raw text.
    For multi-turn chats the prompt column joins the user turns and the answer shows the final answer, the
    one the model is scored on.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[dict[str, Any]] = []
        self._columns: list[str] = []
        self._cells: list[list[str]] = []
        self._line_to_row: dict[int, int] = {}

    def set_records(self, records: list[dict[str, Any]]) -> None:
        """Show these records (dicts from `Record.to_dict()`); only the first PREVIEW_ROWS are kept."""
        self.beginResetModel()
        self._rows = list(records[:PREVIEW_ROWS])
        chat = any(r.get("kind") == "chat" for r in self._rows)
        has_system = any(m.get("role") == "system" for r in self._rows for m in r.get("messages") or [])
        multi_turn = any(
            sum(m.get("role") == "user" for m in r.get("messages") or []) > 1 for r in self._rows
        )
        if chat:
            self._columns = (
                ["Line"] + (["System"] if has_system else []) + ["Prompt (user)", "Answer (assistant)"]
            )
            self._columns += ["Turns"] if multi_turn else []
        else:
            self._columns = ["Line", "Text"] if self._rows else []
        self._cells = [
            self._cells_of(r, has_system, multi_turn) if chat else self._text_cells(r) for r in self._rows
        ]
        self._line_to_row = {int(r.get("line", i + 1)): i for i, r in enumerate(self._rows)}
        self.endResetModel()

    def clear(self) -> None:
        self.set_records([])

    def columns(self) -> list[str]:
        return list(self._columns)

    def row_for_line(self, line: int) -> int | None:
        """The table row of a source line, or None when that line is not a shown (usable) row."""
        return self._line_to_row.get(line)

    def line_of_row(self, row: int) -> int:
        return int(self._rows[row].get("line", row + 1))

    @staticmethod
    def _cells_of(record: dict[str, Any], has_system: bool, multi_turn: bool) -> list[str]:
        messages = record.get("messages") or []
        cells = [str(record.get("line", ""))]
        if has_system:
            cells.append(_joined(messages, "system"))
        cells += [_joined(messages, "user"), _joined(messages, "assistant", last_only=True)]
        if multi_turn:
            cells.append(str(sum(m.get("role") == "user" for m in messages)))
        return cells

    @staticmethod
    def _text_cells(record: dict[str, Any]) -> list[str]:
        return [str(record.get("line", "")), record.get("text") or ""]

    # ---- QAbstractTableModel ----------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt's signature
        return 0 if parent.isValid() else len(self._cells)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt's signature
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        text = self._cells[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            flat = " ".join(text.split())
            return flat if len(flat) <= CELL_CHARS else flat[: CELL_CHARS - 1] + "…"
        if role == Qt.ItemDataRole.ToolTipRole and len(text) > 40:
            return text[:2000]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:  # noqa: N802
        shown = role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole)
        if shown and orientation == Qt.Orientation.Horizontal:
            return self._columns[section] if section < len(self._columns) else None
        return None
