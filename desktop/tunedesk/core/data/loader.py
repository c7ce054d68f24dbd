"""`load_dataset(path)`: read, detect the format, normalise and validate every row, drop exact duplicates."""

from __future__ import annotations

from pathlib import Path

from tunedesk.core.data.formats import FORMAT_HELP, detect_format, normalise_row, row_format
from tunedesk.core.data.pairs import normalise_pair_row
from tunedesk.core.data.readers import SUPPORTED, read_raw
from tunedesk.core.data.records import LoadedData, Problem, Record
from tunedesk.core.errors import TuneDeskError


def load_dataset(path: str | Path) -> LoadedData:
    """Load a dataset file or folder. Bad rows are reported in ``problems`` and skipped (errors) or kept
    (warnings); only a dataset with no usable row at all raises TuneDeskError."""
    path = Path(path).expanduser()
    raw = read_raw(path)
    where = {"file": str(path)}
    if not raw.rows:
        first = raw.problems[0] if raw.problems else None
        if first is not None and first.line is not None:
            where["line"] = first.line
        raise TuneDeskError(
            f"No row of {path.name} could be read" + (f": {first.message}" if first else "."),
            hint="Check that the file holds one JSON object per line (JSONL) or another supported layout: "
            + SUPPORTED
            + ".",
            kind="bad_data",
            where=where,
        )
    data_format, keys = detect_format(raw.rows)
    if data_format is None:
        seen = ", ".join(k for k, _ in keys.most_common(8)) or "none"
        raise TuneDeskError(
            f"Could not tell what the rows of {path.name} mean: none has the fields of a known format "
            f"(fields seen: {seen}).",
            hint=f"Rename the fields to one of: {FORMAT_HELP}.",
            kind="bad_data",
            where={**where, "line": raw.rows[0].line},
        )
    problems: list[Problem] = list(raw.problems)
    records: list[Record] = []
    for row in raw.rows:
        if data_format == "preference":
            record, found = normalise_pair_row(row)
        else:
            record, found = normalise_row(row, data_format)
        looks_like = row_format(row.value)
        if record is None and looks_like not in (None, data_format):
            for p in found:
                p.message += f" (this row looks like {looks_like} while most rows are {data_format})"
        problems.extend(found)
        if record is not None:
            records.append(record)
    records, duplicates = _drop_duplicates(records, problems)
    problems.sort(key=lambda p: (p.source or "", p.line if p.line is not None else 0))
    if not records:
        first = next((p for p in problems if p.severity == "error"), None)
        if first is not None:
            where.update({k: v for k, v in (("line", first.line), ("field", first.field)) if v is not None})
        raise TuneDeskError(
            f"{path.name} has no usable row: all {len(raw.rows)} rows have problems"
            + (f"; the first: {first.message}." if first else "."),
            hint=f"Fix the rows listed by `tunedesk data inspect {path}`. Expected {FORMAT_HELP}.",
            kind="bad_data",
            where=where,
        )
    return LoadedData(
        path=path,
        file_format=raw.file_format,
        data_format=data_format,
        records=records,
        problems=problems,
        total_rows=len(raw.rows) + sum(1 for p in raw.problems if p.severity == "error"),
        duplicates=duplicates,
    )


def _drop_duplicates(records: list[Record], problems: list[Problem]) -> tuple[list[Record], list[list[int]]]:
    """Keep the first of rows with identical content: a repeated row would also leak into validation."""
    first_seen: dict[tuple, int] = {}
    groups: dict[int, list[int]] = {}
    kept = []
    for record in records:
        key = record.content_key()
        if key in first_seen:
            first = first_seen[key]
            groups.setdefault(first, [first]).append(record.line)
            problems.append(
                Problem(
                    record.line, None, "duplicate", f"exact duplicate of line {first}; only the first is kept"
                )
            )
            continue
        first_seen[key] = record.line
        kept.append(record)
    return kept, list(groups.values())
