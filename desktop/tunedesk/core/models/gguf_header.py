"""A GGUF file's metadata and tensor table, read in one pass without building the vocabulary.

gguf-py's GGUFReader turns every field into numpy views, the ~50,000-entry token list included: about 4 s
for the starter model on a laptop CPU, paid each time the GUI asks which quantization a file has. The facts
TuneDesk reads (architecture, sizes, file type, tensor shapes) sit in the header; long arrays are skipped
and only counted, so reading them takes milliseconds.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

MAGIC = b"GGUF"
# general.file_type -> llama.cpp's name (gguf-py's LlamaFileType without MOSTLY_): a table rather than importing
# gguf-py (and numpy) into the GUI at start-up to name one number. tests/unit/test_gguf_header.py checks it.
FILE_TYPES = {
    0: "all_f32", 1: "f16", 2: "q4_0", 3: "q4_1", 7: "q8_0", 8: "q5_0", 9: "q5_1", 10: "q2_k", 11: "q3_k_s",
    12: "q3_k_m", 13: "q3_k_l", 14: "q4_k_s", 15: "q4_k_m", 16: "q5_k_s", 17: "q5_k_m", 18: "q6_k",
    19: "iq2_xxs", 20: "iq2_xs", 21: "q2_k_s", 22: "iq3_xs", 23: "iq3_xxs", 24: "iq1_s", 25: "iq4_nl",
    26: "iq3_s", 27: "iq3_m", 28: "iq2_s", 29: "iq2_m", 30: "iq4_xs", 31: "iq1_m", 32: "bf16", 36: "tq1_0",
    37: "tq2_0",
}  # fmt: skip


def file_type_name(file_type: Any) -> str:
    """'q4_1' for general.file_type 3; "" when the file says nothing."""
    if file_type is None:
        return ""
    return FILE_TYPES.get(int(file_type), f"file type {file_type}")


# GGUF value types -> struct format (little-endian); 8 is a string, 9 an array.
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9
KEEP_ARRAY = 4096  # arrays up to this length are read (per-layer head counts); longer ones only counted


@dataclass(frozen=True)
class LongArray:
    """An array too long to be worth reading here (the vocabulary, merges, scores): its length only."""

    count: int


@dataclass(frozen=True)
class GGUFHeader:
    fields: dict[str, Any]
    tensors: dict[str, int]  # name -> number of elements, in file order

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)


def read_gguf_header(path: str | Path) -> GGUFHeader:
    """Fields and tensor table of a little-endian GGUF (v2/v3); ValueError when it is not one."""
    with open(path, "rb") as f:
        if f.read(4) != MAGIC:
            raise ValueError("not a GGUF file (its first bytes are not 'GGUF')")
        version, n_tensors, n_fields = struct.unpack("<IQQ", _exactly(f, 20))
        if version not in (2, 3):
            raise ValueError(f"GGUF version {version} is not supported (big-endian or too new)")
        fields = {}
        for _ in range(n_fields):
            key = _string(f)
            fields[key] = _value(f, struct.unpack("<I", _exactly(f, 4))[0])
        tensors = {}
        for _ in range(n_tensors):
            name = _string(f)
            (n_dims,) = struct.unpack("<I", _exactly(f, 4))
            dims = struct.unpack(f"<{n_dims}Q", _exactly(f, 8 * n_dims))
            _exactly(f, 12)  # the tensor type (u32) and its data offset (u64)
            count = 1
            for d in dims:
                count *= d
            tensors[name] = count
    return GGUFHeader(fields, tensors)


def _exactly(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise ValueError("the file ends inside its header (truncated?)")
    return data


def _string(f: BinaryIO) -> str:
    (length,) = struct.unpack("<Q", _exactly(f, 8))
    return _exactly(f, length).decode("utf-8", errors="replace")


def _value(f: BinaryIO, kind: int) -> Any:
    if kind in _SCALARS:
        fmt = _SCALARS[kind]
        return struct.unpack(fmt, _exactly(f, struct.calcsize(fmt)))[0]
    if kind == _STRING:
        return _string(f)
    if kind != _ARRAY:
        raise ValueError(f"unknown GGUF value type {kind}")
    item, count = struct.unpack("<IQ", _exactly(f, 12))
    if count <= KEEP_ARRAY:
        return [_value(f, item) for _ in range(count)]
    if item in _SCALARS:  # fixed size: jump over it
        f.seek(count * struct.calcsize(_SCALARS[item]), 1)
    elif item == _STRING:
        for _ in range(count):
            (length,) = struct.unpack("<Q", _exactly(f, 8))
            f.seek(length, 1)
    else:
        for _ in range(count):
            _value(f, item)
    return LongArray(count)
