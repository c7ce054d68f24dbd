"""The header reader agrees with gguf-py's own GGUFReader, field by field and tensor by tensor."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import pytest

from tunedesk.core.models.gguf_header import KEEP_ARRAY, LongArray, read_gguf_header
from tunedesk.core.vendor import starter_gguf


def _agree(path: Path) -> None:
    ours = read_gguf_header(path)
    theirs = gguf.GGUFReader(str(path))
    assert list(ours.fields) == [k for k in theirs.fields if not k.startswith("GGUF.")]
    for key, value in ours.fields.items():
        field = theirs.fields[key]
        if isinstance(value, LongArray):
            assert value.count == len(field.data) > KEEP_ARRAY, key
        else:
            assert value == pytest.approx(field.contents()), key
    assert ours.tensors == {t.name: int(t.n_elements) for t in theirs.tensors}


def test_agrees_with_gguf_py_on_a_written_file(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_block_count(2)
    writer.add_head_count_kv([2, 4])  # a short per-layer array: read in full
    writer.add_token_list([f"t{i}" for i in range(KEEP_ARRAY + 10)])  # a long one: counted
    writer.add_token_scores([0.5] * (KEEP_ARRAY + 10))
    writer.add_chat_template("{{ messages }}")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    writer.add_tensor("token_embd.weight", np.zeros((8, 4), dtype=np.float32))
    writer.add_tensor("blk.0.attn_q.weight", np.zeros((4, 4, 2), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    _agree(path)
    header = read_gguf_header(path)
    assert header.get("llama.attention.head_count_kv") == [2, 4]
    assert header.get("tokenizer.ggml.tokens") == LongArray(KEEP_ARRAY + 10)


def test_agrees_with_gguf_py_on_the_starter_model() -> None:
    path = starter_gguf()
    if path is None:
        pytest.skip("the starter model is not installed (`tunedesk setup`)")
    _agree(path)


@pytest.mark.parametrize("content", [b"", b"GGML" + bytes(20), b"GGUF" + bytes(3)])
def test_not_a_gguf_is_a_value_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(ValueError):
        read_gguf_header(path)


def test_a_truncated_header_is_a_value_error(tmp_path: Path) -> None:
    whole = starter_gguf()
    if whole is None:
        pytest.skip("the starter model is not installed (`tunedesk setup`)")
    path = tmp_path / "cut.gguf"
    with open(whole, "rb") as f:
        path.write_bytes(f.read(300_000))  # inside the vocabulary
    with pytest.raises(ValueError, match="truncated"):
        read_gguf_header(path)


def test_file_type_names_are_gguf_pys_own() -> None:
    """The table the GUI names quantizations from (no gguf-py at start-up) agrees with gguf-py's enum."""
    from tunedesk.core.models.gguf_header import FILE_TYPES, file_type_name

    theirs = {m.value: m.name.removeprefix("MOSTLY_").lower() for m in gguf.LlamaFileType}
    assert {value: theirs.get(value) for value in FILE_TYPES} == FILE_TYPES
    assert set(range(33)) - {4, 5, 6} <= set(FILE_TYPES)  # 4-6 were removed from llama.cpp long ago
    assert (
        file_type_name(3) == "q4_1" and file_type_name(None) == "" and file_type_name(999) == "file type 999"
    )
