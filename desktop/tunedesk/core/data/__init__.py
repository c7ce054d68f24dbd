"""The dataset pipeline: read a file or folder, detect its format, validate it row by row, report on its
quality, render it through the model's chat template with answer-only labels, split it, and pack it.

Typical use (the trainer)::

    data = load_dataset(path)                      # LoadedData: records + problems, never a traceback
    split = split_records(data.records, seed=42)   # Split(train, val, test)
    save_records(split.train, run.data / "train.jsonl")
    encoded = encode_records(split.train, tokenizer, seq_len)   # EncodedSet of Example(input_ids, labels)
"""

from __future__ import annotations

from tunedesk.core.data.encode import (
    DataStats,
    EncodedSet,
    Example,
    data_stats,
    encode_record,
    encode_records,
)
from tunedesk.core.data.formats import DATA_FORMATS
from tunedesk.core.data.loader import load_dataset
from tunedesk.core.data.packing import PackedExample, pack_examples
from tunedesk.core.data.quality import QualityReport, TokenStats, inspect_dataset
from tunedesk.core.data.records import LoadedData, Problem, Record
from tunedesk.core.data.render import FALLBACK_CHAT_TEMPLATE, chat_template_for, tokenize_chat
from tunedesk.core.data.sample import SAMPLE_FORMAT_RE, is_sample_format
from tunedesk.core.data.split import Split, load_records, save_records, split_records

__all__ = [
    "DATA_FORMATS",
    "FALLBACK_CHAT_TEMPLATE",
    "SAMPLE_FORMAT_RE",
    "DataStats",
    "EncodedSet",
    "Example",
    "LoadedData",
    "PackedExample",
    "Problem",
    "QualityReport",
    "Record",
    "Split",
    "TokenStats",
    "chat_template_for",
    "data_stats",
    "encode_record",
    "encode_records",
    "inspect_dataset",
    "is_sample_format",
    "load_dataset",
    "load_records",
    "pack_examples",
    "save_records",
    "split_records",
    "tokenize_chat",
]
