"""De-quantizing the real starter GGUF once into a loadable folder, and fast tokenizers from a GGUF."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.launch import worker_env
from tunedesk.core.models.cache import _publish, cache_folder, gguf_digest, load_tokenizer, materialize
from tunedesk.core.models.info import model_info
from tunedesk.core.models.source import SOURCE_MARKER, list_local_models, resolve_model
from tunedesk.core.paths import models_dir
from tunedesk.core.vendor import converter_dir, require_converter


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
    assert resolve_model(folder.name).path == folder  # by the name the picker shows
    # ...but the picker lists the starter once: its de-quantized copy is how it trains, not another model.
    listed = list_local_models()
    assert not any(m.path == folder for m in listed)
    assert [m.kind for m in listed].count("starter") == 1


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


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """The tiny Llama converted to an f32 GGUF by llama.cpp's own converter (run apart, as export does)."""
    out = tmp_path_factory.mktemp("tiny-gguf") / "tiny-llama.gguf"
    env = {**worker_env(), "PYTHONPATH": str(converter_dir())}
    cmd = [
        sys.executable,
        str(require_converter()),
        "--outtype",
        "f32",
        "--outfile",
        str(out),
        str(tiny_model_dir),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


MATERIALIZE = (
    "import sys; from tunedesk.core.models.source import resolve_model; from tunedesk.core.models.cache import materialize; "
    "print(materialize(resolve_model(sys.argv[1]), log=lambda m: None))"
)


def test_concurrent_materialize_gives_one_complete_folder_equal_to_the_original(
    tiny_gguf: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    import torch
    from safetensors.torch import load_file

    info = model_info(resolve_model(str(tiny_gguf)))
    assert info.params == model_info(resolve_model(str(tiny_model_dir))).params and info.dtype == "all_f32"

    models = tmp_path / "models"
    env = {**worker_env(), "TUNEDESK_MODELS": str(models)}
    cmd = [sys.executable, "-c", MATERIALIZE, str(tiny_gguf)]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in "ab"
    ]
    results = [(p.wait(timeout=300), p.stdout.read().strip(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    assert all(rc == 0 for rc, _, _ in results), [err[-1500:] for _, _, err in results]
    folder = Path(results[0][1])
    assert results[1][1] == str(folder) and folder.parent == models
    assert [p.name for p in models.iterdir() if not p.name.endswith(".lock")] == [folder.name]  # no temp left

    # GGUF f32 -> de-quantized folder round-trips the original weights (q/k un-permuted by transformers).
    original, restored = (
        load_file(tiny_model_dir / "model.safetensors"),
        load_file(folder / "model.safetensors"),
    )
    for name in (
        "model.layers.0.self_attn.q_proj.weight",
        "model.layers.1.mlp.down_proj.weight",
        "model.norm.weight",
    ):
        assert torch.allclose(original[name], restored[name]), name


def test_gguf_transformers_cannot_load_is_flagged_and_refused(tmp_path: Path) -> None:
    import gguf
    import numpy as np

    path = tmp_path / "odd.gguf"
    writer = gguf.GGUFWriter(str(path), "rwkv6")
    writer.add_block_count(1)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    info = model_info(resolve_model(str(path)))
    assert info.params == 32 and info.exportable is False and "cannot load 'rwkv6'" in info.export_note
    with pytest.raises(TuneDeskError) as err:
        materialize(resolve_model(str(path)), log=lambda _m: None)
    assert err.value.kind == "bad_model" and "odd.gguf" in err.value.message
    assert not any(p.name.startswith(".odd") and p.suffix == ".tmp" for p in models_dir().iterdir())
