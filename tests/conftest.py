"""Shared fixtures. Every test gets its own TuneDesk home (runs, caches) in a temp folder; the vendor folder
(converter, starter model, installed once by `tunedesk setup`) is shared."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "desktop"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from tunedesk.core.offline import enforce_offline  # noqa: E402
from tunedesk.core.paths import data_home, vendor_dir  # noqa: E402

enforce_offline()
# Resolve the real vendor folder before any test moves TUNEDESK_HOME.
os.environ.setdefault("TUNEDESK_VENDOR", str(vendor_dir()))
_REAL_HOME = data_home()


@pytest.fixture(autouse=True)
def tunedesk_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("TUNEDESK_HOME", str(home))
    # Keep de-quantized base models (slow to make) shared across tests, like a user's real cache.
    monkeypatch.setenv("TUNEDESK_MODELS", str(_REAL_HOME / "models"))
    return home


@pytest.fixture(scope="session")
def starter_gguf() -> Path:
    from tunedesk.core.vendor import starter_gguf

    path = starter_gguf()
    if path is None:
        pytest.fail(
            "The starter model is not installed: run `tunedesk setup` (the README's test command does)."
        )
    return path


@pytest.fixture(scope="session")
def starter_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory, starter_gguf: Path) -> Path:
    """The starter model's real tokenizer (with its chat template) saved as a plain folder."""
    from transformers import AutoTokenizer

    out = tmp_path_factory.mktemp("starter-tokenizer")
    tok = AutoTokenizer.from_pretrained(str(starter_gguf.parent), gguf_file=starter_gguf.name)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, starter_tokenizer_dir: Path) -> Path:
    """A tiny random Llama (2 layers, hidden 64) with the starter's real tokenizer: trains in seconds."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    out = tmp_path_factory.mktemp("tiny-llama")
    tok = AutoTokenizer.from_pretrained(starter_tokenizer_dir)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    return out


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    """A small valid chat dataset (40 distinct tickets and their summaries) for tests that need one on disk."""
    import json

    rows = [
        {
            "messages": [
                {"role": "user", "content": f"Summarise ticket {i}"},
                {"role": "assistant", "content": f"T{i}"},
            ]
        }
        for i in range(40)
    ]
    path = tmp_path / "tickets.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
