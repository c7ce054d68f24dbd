"""Base model resolution, safety refusals and ModelInfo, on the real starter model and real tiny folders."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.launch import worker_env
from tunedesk.core.models.exportability import converter_architectures, export_check, parse_registered
from tunedesk.core.models.info import model_info
from tunedesk.core.models.source import list_local_models, resolve_model


@pytest.fixture
def hf_cache(tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Hugging Face cache laid out as huggingface_hub leaves it, holding a real tiny model."""
    hub = tmp_path / "hub"
    repo = hub / "models--acme--tiny-llama"
    snap = repo / "snapshots" / "0123abcd"
    shutil.copytree(tiny_model_dir, snap)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    (hub / "models--acme--broken" / "snapshots" / "ffff").mkdir(parents=True)  # no config.json: skipped
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    return snap


def test_starter_resolves_to_the_vendored_gguf(starter_gguf: Path) -> None:
    src = resolve_model("starter")
    assert src.kind == "starter" and src.is_gguf and src.path == starter_gguf
    assert resolve_model("Starter").path == starter_gguf


def test_gguf_file_and_folder_holding_one_gguf(starter_gguf: Path, tmp_path: Path) -> None:
    src = resolve_model(str(starter_gguf))
    assert src.kind == "gguf" and src.path == starter_gguf.resolve()
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.gguf").symlink_to(starter_gguf)
    assert resolve_model(str(tmp_path / "m")).kind == "gguf"


def test_hf_folder(tiny_model_dir: Path) -> None:
    src = resolve_model(str(tiny_model_dir))
    assert src.kind == "folder" and not src.is_gguf and src.path == tiny_model_dir.resolve()


def test_hf_cache_id_is_found_without_downloading(hf_cache: Path) -> None:
    src = resolve_model("acme/tiny-llama")
    assert src.kind == "hf_cache" and src.path == hf_cache
    assert resolve_model("ACME/Tiny-Llama").path == hf_cache  # ids are case-insensitive on the Hub
    refs = [m.ref for m in list_local_models()]
    assert "starter" in refs and "acme/tiny-llama" in refs and "acme/broken" not in refs
    # a cache entry given as a folder resolves to its snapshot
    assert resolve_model(str(hf_cache.parents[1])).path == hf_cache


def test_unknown_ref_lists_what_is_local(hf_cache: Path) -> None:
    with pytest.raises(TuneDeskError) as err:
        resolve_model("acme/tiny-lama")
    e = err.value
    assert e.kind == "missing_model" and "acme/tiny-lama" in e.message
    assert "Did you mean acme/tiny-llama" in e.hint and "starter" in e.hint and "never downloads" in e.hint
    assert "huggingface-cli download acme/tiny-lama" in e.hint
    with pytest.raises(TuneDeskError, match="does not exist"):
        resolve_model("./no/such/model.gguf")
    with pytest.raises(TuneDeskError, match="not a .gguf"):
        resolve_model(str(hf_cache / "config.json"))


def test_folder_without_config_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(TuneDeskError, match="no config.json") as err:
        resolve_model(str(tmp_path))
    assert err.value.kind == "missing_model"


def test_folder_without_tokenizer_is_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "no-tok"
    shutil.copytree(tiny_model_dir, folder, ignore=shutil.ignore_patterns("tokenizer*", "chat_template*"))
    with pytest.raises(TuneDeskError, match="no tokenizer files") as err:
        resolve_model(str(folder))
    assert err.value.kind == "missing_model"


def _pickle_only(src: Path, dest: Path) -> Path:
    import torch
    from safetensors.torch import load_file

    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("*.safetensors"))
    torch.save(load_file(src / "model.safetensors"), dest / "pytorch_model.bin")
    return dest


def test_pickle_only_folder_is_refused_unless_allowed(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = _pickle_only(tiny_model_dir, tmp_path / "pickled")
    with pytest.raises(TuneDeskError) as err:
        resolve_model(str(folder))
    assert err.value.kind == "unsafe_model" and "pickle" in err.value.message
    assert "--allow-pickle" in err.value.hint
    src = resolve_model(str(folder), allow_pickle=True)
    info = model_info(src)
    assert info.weights_format == "pickle"
    assert info.params == model_info(resolve_model(str(tiny_model_dir))).params  # meta-device count is exact


def test_auto_map_folder_is_refused_unless_trusted(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "remote"
    shutil.copytree(tiny_model_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_custom.CustomForCausalLM"}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(TuneDeskError) as err:
        resolve_model(str(folder))
    assert err.value.kind == "unsafe_model" and "auto_map" in err.value.message
    assert "--trust-remote-code" in err.value.hint
    info = model_info(resolve_model(str(folder), trust_remote_code=True))
    assert info.needs_trust_remote_code


def test_folder_model_info_matches_the_real_model(tiny_model_dir: Path) -> None:
    from transformers import AutoModelForCausalLM

    info = model_info(resolve_model(str(tiny_model_dir)))
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert info.params == sum(p.numel() for p in model.parameters())
    assert (info.architecture, info.model_type) == ("LlamaForCausalLM", "llama")
    assert (info.num_layers, info.hidden_size, info.num_heads, info.num_kv_heads) == (2, 64, 4, 2)
    assert info.head_dim == 16 and info.intermediate_size == 128 and info.max_positions == 1024
    assert info.weights_format == "safetensors" and info.has_chat_template and info.tied_embeddings
    assert info.exportable is True and info.size_on_disk_mb > 0


STARTER_INFO = """
import json, sys
from tunedesk.core.models.info import model_info
from tunedesk.core.models.source import resolve_model
info = model_info(resolve_model("starter"))
print(json.dumps({**info.to_dict(), "torch_imported": "torch" in sys.modules}))
"""


def test_starter_model_info_without_loading_weights() -> None:
    # In a fresh process: reading the GGUF metadata must not even import torch.
    proc = subprocess.run(
        [sys.executable, "-c", STARTER_INFO], capture_output=True, text=True, env=worker_env()
    )
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["torch_imported"] is False
    assert (d["architecture"], d["model_type"], d["num_layers"], d["hidden_size"]) == (
        "LlamaForCausalLM",
        "llama",
        30,
        576,
    )
    assert (d["num_heads"], d["num_kv_heads"], d["vocab_size"], d["max_positions"]) == (9, 3, 49152, 8192)
    assert 134e6 < d["params"] < 136e6 and d["tied_embeddings"]
    assert d["exportable"] is True and d["has_chat_template"] and d["weights_format"] == "gguf"
    assert d["dtype"] == "q4_1"


def test_exportability_is_read_from_the_converter_source(tmp_path: Path) -> None:
    supported = converter_architectures()
    assert (
        supported is not None and {"LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM"} <= supported
    )
    ok, note = export_check("MadeUpForCausalLM")
    assert ok is False and "does not support MadeUpForCausalLM" in note
    assert export_check("LlamaForCausalLM", root=tmp_path)[0] is None  # converter missing: unknown
    src = (
        "@ModelBase.register('TextA', \"TextB\")\nclass A(TextModel): pass\n"
        "@ModelBase.register('VisionProj')\nclass V(MmprojModel): pass\n"
        "@other.register('Nope')\nclass N: pass\n"
    )
    assert parse_registered(src) == {"TextA", "TextB"}


def test_the_starter_is_listed_once_other_dequantized_copies_stay(
    starter_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tunedesk.core.models.source import SOURCE_MARKER

    monkeypatch.setenv("TUNEDESK_MODELS", str(tmp_path / "models"))
    for name, gguf in (("starter-copy", starter_gguf), ("other-copy", tmp_path / "mine.Q8_0.gguf")):
        folder = tmp_path / "models" / name
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
        (folder / SOURCE_MARKER).write_text(json.dumps({"gguf": str(gguf), "name": name}))
    listed = list_local_models()
    assert [m.kind for m in listed].count("starter") == 1
    assert [m.path.name for m in listed if m.kind == "dequantized"] == ["other-copy"]
