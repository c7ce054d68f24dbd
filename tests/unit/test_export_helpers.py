"""Builders for export tests: a real run folder holding a real peft adapter over the tiny Llama.

(No tests here; the module is named for pytest's import rules so the export tests can share it.)
"""

from __future__ import annotations

import json
from pathlib import Path

from tunedesk.core.data.split import load_records
from tunedesk.core.data.system_prompt import save_system_prompt
from tunedesk.core.paths import sample_dataset
from tunedesk.core.runs import RunConfig, RunLayout, create_run


def make_run(root: Path, base_dir: Path, *, adapter: str | None = "adapter", val_rows: int = 6) -> RunLayout:
    """A run folder: config.json, data/val.jsonl from the sample data (and its system prompt, as training
    stores it), and a LoRA adapter saved by peft.

    init_lora_weights=False makes the adapter non-zero, so merging visibly changes the weights.
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    data = sample_dataset()
    layout = create_run(RunConfig(model=str(base_dir), data=str(data), name="tiny-export"), root)
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()[:val_rows]]
    layout.data.mkdir(parents=True, exist_ok=True)
    with open(layout.data / "val.jsonl", "w", encoding="utf-8") as fh:
        for i, row in enumerate(rows):
            fh.write(json.dumps({"line": i + 1, "kind": "chat", **row}) + "\n")
    save_system_prompt(layout.data, load_records(layout.data / "val.jsonl"))  # as training does
    if adapter:
        torch.manual_seed(1)
        model = AutoModelForCausalLM.from_pretrained(base_dir)
        lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
        get_peft_model(model, lora).save_pretrained(layout.root / adapter)
    return layout


def corrupt_tensor(gguf_path: Path, name: str = "blk.0.ffn_down.weight") -> None:
    """Overwrite every byte of one weight tensor in a GGUF file with random bytes (a damaged download)."""
    import numpy as np
    from gguf import GGUFReader

    reader = GGUFReader(gguf_path, "r+")
    tensor = next(t for t in reader.tensors if t.name == name)
    raw = tensor.data.reshape(-1).view(np.uint8)
    raw[:] = np.random.default_rng(0).integers(0, 256, raw.size, dtype=np.uint8)
    reader.data.flush()


def scramble_tokenizer(gguf_path: Path) -> None:
    """Give a GGUF another tokenizer of the same size: token strings rotated among tokens of equal length, as a
    file converted with the wrong tokenizer folder would have them."""
    import numpy as np
    from gguf import GGUFReader

    reader = GGUFReader(gguf_path, "r+")
    tokens = reader.fields["tokenizer.ggml.tokens"]
    types = reader.fields["tokenizer.ggml.token_type"]
    by_length: dict[int, list[int]] = {}
    for i, part in enumerate(tokens.data):
        if int(types.parts[types.data[i]][0]) == 1:  # normal tokens; control tokens keep their places
            by_length.setdefault(len(tokens.parts[part]), []).append(part)
    for group in by_length.values():
        contents = [bytes(tokens.parts[p]) for p in group]
        for part, text in zip(group, contents[1:] + contents[:1], strict=True):
            tokens.parts[part][:] = np.frombuffer(text, dtype=np.uint8)
    reader.data.flush()


def test_earlier_export_is_the_last_completed_one_whose_file_is_there(tmp_path) -> None:
    """Exports append to one events file: a later failed export, or a deleted file, leaves the earlier one."""
    from tunedesk.core.export.earlier import earlier_export
    from tunedesk.core.protocol import EventWriter

    out = tmp_path / "export"
    out.mkdir(parents=True)
    first, second = out / "a-q8_0.gguf", out / "a-q4_k_m.gguf"
    first.write_bytes(b"GGUF")
    second.write_bytes(b"GGUF")
    writer = EventWriter(stream=None, log_path=out / "events.jsonl")
    assert earlier_export(tmp_path) == []
    writer.emit("stage", stage="merge", status="done", message="first")
    writer.emit("finished", status="completed", gguf_path=str(first))
    writer.emit("stage", stage="merge", status="done", message="second")
    writer.emit("finished", status="completed", gguf_path=str(second))
    writer.emit("stage", stage="merge", status="running", message="third")
    writer.emit("finished", status="failed")
    events = earlier_export(tmp_path)
    assert [e.get("message") for e in events] == ["second", None] and events[-1]["gguf_path"] == str(second)
    second.unlink()
    assert [e.get("message") for e in earlier_export(tmp_path)] == ["first", None]
