"""One preset advisor for every front end: `doctor`, `train` and the GUI (through doctor) size a run alike.

The data is measured once, the same way everywhere: chat rows whole (up to the window below), raw text cut
into windows of about the model's limit. Two front ends that measured differently could choose different
presets for the same data; this module is why they do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunedesk.core.data.encode import DataStats
from tunedesk.core.hardware.info import HardwareInfo
from tunedesk.core.models.info import ModelInfo
from tunedesk.core.models.source import ModelSource
from tunedesk.core.presets.select import Selection, select_preset

# Long enough that chat rows are measured whole; raw text is measured in windows of the model's own limit.
MAX_MEASURE_WINDOW = 4096


@dataclass
class DataMeasure:
    path: str
    rows: int
    usable_rows: int
    problems: int
    stats: DataStats

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "rows": self.rows,
            "usable_rows": self.usable_rows,
            "problems": self.problems,
            "stats": self.stats.to_dict(),
        }


def measure_window(info: ModelInfo) -> int:
    return min(info.max_positions or 2048, MAX_MEASURE_WINDOW)


def measure_data(path: str | Path, source: ModelSource, info: ModelInfo) -> DataMeasure:
    """Load the dataset and measure its token lengths with the model's tokenizer."""
    from tunedesk.core.data import data_stats, encode_records, load_dataset
    from tunedesk.core.models.cache import load_tokenizer

    loaded = load_dataset(path)
    encoded = encode_records(loaded.records, load_tokenizer(source), measure_window(info))
    return DataMeasure(
        path=str(Path(path).expanduser()),
        rows=loaded.total_rows,
        usable_rows=len(loaded.records),
        problems=len(loaded.problems),
        stats=data_stats(encoded),
    )


def advise(
    hw: HardwareInfo,
    info: ModelInfo,
    data: DataMeasure | None,
    overrides: dict[str, Any] | None = None,
    requested: str = "auto",
    processes: int = 1,
) -> Selection:
    """The preset, device, reasons, warnings and memory estimate (per process) for this machine, model and data."""
    return select_preset(
        hw, info, data.stats if data else None, overrides, requested=requested, processes=processes
    )


def advised_seq_len(info: ModelInfo, stats: DataStats | None) -> int:
    """The sequence length advise() starts from for this model and data (it only goes lower when memory is
    short): what the Data page's histogram cuts at before a preset was chosen, so the two pages agree."""
    from tunedesk.core.presets.preset import Preset
    from tunedesk.core.presets.rules import choose_seq_len

    return choose_seq_len(info, stats, Preset().seq_len)[0]
