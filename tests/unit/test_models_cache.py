"""De-quantizing the real starter GGUF once into a loadable folder, and fast tokenizers from a GGUF."""

from __future__ import annotations

import json
from pathlib import Path

from tunedesk.core.model_cache import _publish, cache_folder, gguf_digest, load_tokenizer, materialize
from tunedesk.core.models import SOURCE_MARKER, list_local_models, resolve_model


def test_materialize_starter_then_reload_without_gguf_file() -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = resolve_model("starter")
    folder = materialize(src, log=lambda _m: None)  # shared models dir: made once per machine
    assert folder == cache_folder(src) and folder.name.startswith("SmolLM2-135M-Instruct.Q4_1-")
    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config and config["num_hidden_layers"] == 30
    for name in ("model.safetensors", "tokenizer.json", "generation_config.json", SOURCE_MARKER):
        assert (folder / name).is_file(), name
    assert json.loads((folder / SOURCE_MARKER).read_text())["digest"] == gguf_digest(src.path)
    assert materialize(src, log=lambda _m: None) == folder  # cached: the same folder, no second de-quantize

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(folder)
    assert model.config.hidden_size == 576 and tok.chat_template and "<|im_start|>" in tok.chat_template
    ids = tok("The capital of France is", return_tensors="pt").input_ids
    with torch.no_grad():
        logits = model(ids).logits
    assert torch.isfinite(logits).all() and logits.shape[-1] == 49152
    # The folder is a model like any other: resolvable by path and listed for the picker.
    assert resolve_model(str(folder)).kind == "dequantized"
    assert any(m.kind == "dequantized" and m.path == folder for m in list_local_models())


def test_folder_sources_are_used_in_place(tiny_model_dir: Path) -> None:
    src = resolve_model(str(tiny_model_dir))
    assert materialize(src, log=lambda _m: None) == src.path


def test_load_tokenizer_from_gguf_has_the_chat_template() -> None:
    tok = load_tokenizer("starter")
    text = tok.apply_chat_template(
        [{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True
    )
    assert text.endswith("<|im_start|>assistant\n")
    assert load_tokenizer(resolve_model("starter")).vocab_size == tok.vocab_size


def test_load_tokenizer_of_a_folder(tiny_model_dir: Path) -> None:
    assert load_tokenizer(str(tiny_model_dir)).chat_template


def test_publish_keeps_the_first_finished_copy(tmp_path: Path) -> None:
    """Two processes de-quantizing at once: the second rename fails and its copy is thrown away."""
    target = tmp_path / "model-abc"
    first, second = tmp_path / ".model-abc.1.tmp", tmp_path / ".model-abc.2.tmp"
    for folder, tag in ((first, "first"), (second, "second")):
        folder.mkdir()
        (folder / "config.json").write_text("{}")
        (folder / SOURCE_MARKER).write_text(json.dumps({"tag": tag}))
    assert _publish(first, target) == target
    assert _publish(second, target) == target
    assert json.loads((target / SOURCE_MARKER).read_text())["tag"] == "first"
    assert not first.exists() and not second.exists()


def test_gguf_digest_changes_with_content(tmp_path: Path) -> None:
    a, b = tmp_path / "a.gguf", tmp_path / "b.gguf"
    a.write_bytes(b"GGUF" + bytes(10_000))
    b.write_bytes(b"GGUF" + bytes(9_999) + b"\x01")
    assert gguf_digest(a) != gguf_digest(b) and len(gguf_digest(a)) == 12
    assert gguf_digest(a) == gguf_digest(a)
