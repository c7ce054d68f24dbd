"""The run's data: split once and stored in the run folder, then encoded for the model.

The first start of a run loads the user's file, splits it with the preset's seed and writes
RUN_DIR/data/train.jsonl and val.jsonl (and test.jsonl when there is a test part). Every later start (a
resume) reads those files back and never re-splits: the user's file may have changed since, and a resumed
run must train and validate on exactly the rows it started with.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from tunedesk.core.data.encode import encode_records
from tunedesk.core.data.loader import load_dataset
from tunedesk.core.data.packing import pack_examples
from tunedesk.core.data.records import Record
from tunedesk.core.data.split import load_records, save_records, split_records
from tunedesk.core.data.system_prompt import save_system_prompt
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.preset import Preset
from tunedesk.core.runs import RunConfig, RunLayout
from tunedesk.core.training.objective import check_data_fits

log = logging.getLogger("tunedesk.training")


@dataclass
class PreparedData:
    train_records: list[Record]
    val_records: list[Record]
    train: list[Any]  # Example, PackedExample (+ position_ids) or PairExample (DPO)
    val: list[Any]
    train_tokens: int  # real tokens in one pass over the training examples
    truncated: int
    dropped: int
    system_prompt: str | None = None  # the training rows' most common one (None: the template's default)
    # The base model's own general answers mixed into `train` (core/training/rehearsal.py): rows, counted before
    # packing, and their share of the training rows (below general_data_fraction when answers run short).
    general_examples: int = 0
    general_fraction_used: float = 0.0
    general_heldout: list[Record] = field(default_factory=list)  # never trained on: the forgetting measure


def split_once(layout: RunLayout, config: RunConfig) -> tuple[list[Record], list[Record]]:
    """The run's (train, val) records: read back from RUN_DIR/data when present, else split and stored."""
    train_path, val_path = layout.data / "train.jsonl", layout.data / "val.jsonl"
    if train_path.exists() and val_path.exists():
        log.info("using the run's stored split in %s", layout.data)
        return load_records(train_path), load_records(val_path)
    preset = config.preset
    loaded = load_dataset(config.data)
    skipped = len(loaded.errors)
    if skipped:
        log.warning(
            "%s of %s rows of %s were skipped (see `tunedesk data inspect`)",
            skipped,
            loaded.total_rows,
            config.data,
        )
    split = split_records(loaded.records, preset.val_fraction, preset.val_max, preset.seed)
    if split.test:
        save_records(split.test, layout.data / "test.jsonl")
    # val first: train.jsonl appearing last is what marks the split as complete.
    save_records(split.val, val_path)
    save_records(split.train, train_path)
    log.info("split %s: %s", config.data, split.sizes())
    return split.train, split.val


def prepare_data(layout: RunLayout, config: RunConfig, tokenizer: Any) -> PreparedData:
    preset: Preset = config.preset
    train_records, val_records = split_once(layout, config)
    check_data_fits(train_records, preset, config.data)
    system_prompt = save_system_prompt(layout.data, train_records)
    train_set = encode_records(train_records, tokenizer, preset.seq_len)
    val_set = encode_records(val_records, tokenizer, preset.seq_len)
    train = [ex for ex in train_set.examples if ex.supervised_tokens > 0]
    if not train:
        raise TuneDeskError(
            f"No training example of {config.data} has anything to learn from after encoding "
            f"({len(train_records)} rows, seq_len {preset.seq_len}).",
            hint="Check that the rows have assistant answers (or text), or raise seq_len (--set seq_len=...).",
            kind="bad_data",
            where={"file": str(config.data)},
        )
    if train_set.truncated:
        log.warning(
            "%s training examples were longer than seq_len %s and were cut",
            train_set.truncated,
            preset.seq_len,
        )
    if preset.packing and preset.objective == "sft":  # a pair's two sides are compared, never packed
        train = pack_examples(train, preset.seq_len)
        log.info(
            "packed %s examples into %s rows of at most %s tokens",
            len(train_set.examples),
            len(train),
            preset.seq_len,
        )
    val = [ex for ex in val_set.examples if ex.supervised_tokens > 0]
    return PreparedData(
        train_records=train_records,
        val_records=val_records,
        train=train,
        val=val,
        train_tokens=sum(len(ex) for ex in train),
        truncated=train_set.truncated,
        dropped=train_set.dropped,
        system_prompt=system_prompt,
    )
