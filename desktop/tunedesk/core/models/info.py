"""What a base model is, read from its config.json or GGUF metadata without loading any weights.

The parameter count is exact and needs no torch: it is summed from the tensor shapes in the safetensors
headers (or the GGUF tensor table). Only a pickle-only folder, whose shapes cannot be read without
unpickling, falls back to building the model on the meta device (no memory, no weights).
"""

from __future__ import annotations

import json
import struct
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.models.exportability import export_check
from tunedesk.core.models.gguf_header import LongArray, file_type_name, read_gguf_header
from tunedesk.core.models.source import ModelSource, weight_files

# GGUF's general.architecture -> (transformers model_type, architecture class): the architectures whose GGUF
# files transformers can de-quantize (its GGUF_SUPPORTED_ARCHITECTURES, causal LMs only). A static table, so
# reading a GGUF's facts never imports torch (the GUI calls this).
GGUF_ARCHS = {
    "gpt-oss": ("gpt_oss", "GptOssForCausalLM"),
    "lfm2": ("lfm2", "Lfm2ForCausalLM"),
    "mamba": ("mamba", "MambaForCausalLM"),
    "nemotron": ("nemotron", "NemotronForCausalLM"),
    "gemma4": ("gemma4_text", "Gemma4ForCausalLM"),
    "minimax-m2": ("minimax_m2", "MiniMaxM2ForCausalLM"),
    "llama": ("llama", "LlamaForCausalLM"),
    "mistral": ("mistral", "MistralForCausalLM"),
    "qwen2": ("qwen2", "Qwen2ForCausalLM"),
    "qwen3": ("qwen3", "Qwen3ForCausalLM"),
    "qwen2moe": ("qwen2_moe", "Qwen2MoeForCausalLM"),
    "qwen3moe": ("qwen3_moe", "Qwen3MoeForCausalLM"),
    "gemma2": ("gemma2", "Gemma2ForCausalLM"),
    "gemma3": ("gemma3_text", "Gemma3ForCausalLM"),
    "phi3": ("phi3", "Phi3ForCausalLM"),
    "gpt2": ("gpt2", "GPT2LMHeadModel"),
    "starcoder2": ("starcoder2", "Starcoder2ForCausalLM"),
    "stablelm": ("stablelm", "StableLmForCausalLM"),
    "falcon": ("falcon", "FalconForCausalLM"),
    "bloom": ("bloom", "BloomForCausalLM"),
}


@dataclass
class ModelInfo:
    name: str = ""
    source_kind: str = ""
    path: str = ""
    architecture: str = ""  # "LlamaForCausalLM"
    model_type: str = ""  # "llama"
    num_layers: int = 0
    hidden_size: int = 0
    num_heads: int = 0
    num_kv_heads: int = 0
    head_dim: int = 0
    intermediate_size: int = 0
    vocab_size: int = 0
    max_positions: int = 0
    params: int = 0
    tied_embeddings: bool = False
    dtype: str = ""  # stored precision: "bfloat16", "float32", or a GGUF type such as "q4_1"
    size_on_disk_mb: float = 0.0
    has_chat_template: bool = False
    needs_trust_remote_code: bool = False
    weights_format: str = ""  # "safetensors" | "pickle" | "gguf"
    exportable: bool | None = None  # to GGUF by llama.cpp's converter (None: converter not installed)
    export_note: str = ""

    @property
    def block_linear_params(self) -> int:
        """Weights of the transformer blocks' linear layers: the part QLoRA stores in 4 bits."""
        h, d = self.hidden_size, self.head_dim or (self.hidden_size // max(self.num_heads, 1))
        q_out, kv_out = self.num_heads * d, (self.num_kv_heads or self.num_heads) * d
        per_layer = h * q_out + 2 * h * kv_out + q_out * h + 3 * h * self.intermediate_size
        return min(self.num_layers * per_layer, self.params) if self.params else self.num_layers * per_layer

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelInfo:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


# ---- safetensors / GGUF reading ----------------------------------------------------------------------
def safetensors_params(files: list[Path]) -> int:
    """Exact element count from the safetensors headers (8-byte length, then a JSON table of shapes)."""
    total = 0
    for file in files:
        with open(file, "rb") as fh:
            (length,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(length))
        for name, meta in header.items():
            if name != "__metadata__":
                n = 1
                for dim in meta["shape"]:
                    n *= dim
                total += n
    return total


def _folder_size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) / 2**20


def _text_config(config: dict[str, Any]) -> dict[str, Any]:
    """Multimodal configs nest the language model's numbers under text_config."""
    inner = config.get("text_config")
    return {**config, **inner} if isinstance(inner, dict) else config


def _first(cfg: dict[str, Any], *keys: str, default: Any = 0) -> Any:
    for k in keys:
        if cfg.get(k) is not None:
            return cfg[k]
    return default


def _folder_has_chat_template(folder: Path) -> bool:
    if (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file():
        return True
    try:
        tok_cfg = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(tok_cfg.get("chat_template"))


def _meta_params(folder: Path) -> int:
    """Parameter count by building the model on the meta device (no memory used, no weights read)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(folder)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return sum(p.numel() for p in model.parameters())


def folder_info(source: ModelSource) -> ModelInfo:
    folder = source.path
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    cfg = _text_config(config)
    safe, pickled = weight_files(folder)
    hidden = int(_first(cfg, "hidden_size", "n_embd", "d_model"))
    heads = int(_first(cfg, "num_attention_heads", "n_head"))
    archs = config.get("architectures") or []
    info = ModelInfo(
        name=source.name,
        source_kind=source.kind,
        path=str(folder),
        architecture=archs[0] if archs else "",
        model_type=str(config.get("model_type", "")),
        num_layers=int(_first(cfg, "num_hidden_layers", "n_layer", "num_layers")),
        hidden_size=hidden,
        num_heads=heads,
        num_kv_heads=int(_first(cfg, "num_key_value_heads", default=heads)),
        head_dim=int(_first(cfg, "head_dim", default=hidden // heads if heads else 0)),
        intermediate_size=int(_first(cfg, "intermediate_size", "n_inner", "ffn_dim", default=4 * hidden)),
        vocab_size=int(_first(cfg, "vocab_size")),
        max_positions=int(_first(cfg, "max_position_embeddings", "n_positions", "max_seq_len", default=2048)),
        tied_embeddings=bool(_first(cfg, "tie_word_embeddings", default=False)),
        dtype=str(_first(config, "dtype", "torch_dtype", default="float32")),
        size_on_disk_mb=round(_folder_size_mb(folder), 1),
        has_chat_template=_folder_has_chat_template(folder),
        needs_trust_remote_code=bool(config.get("auto_map")),
        weights_format="safetensors" if safe else "pickle",
    )
    if safe:
        info.params = safetensors_params(safe)
    elif not info.needs_trust_remote_code:
        info.params = _meta_params(folder)
    else:  # neither readable nor buildable without running the model's code: compute from the config
        emb = info.vocab_size * hidden * (1 if info.tied_embeddings else 2)
        info.params = info.block_linear_params + emb
    info.exportable, info.export_note = export_check(info.architecture)
    return info


def _gguf_arch(arch: str, name: str) -> tuple[str, str]:
    if arch == "llama" and "mistral" in name.lower():
        arch = "mistral"  # llama.cpp stores Mistral as llama; transformers tells them apart the same way
    return GGUF_ARCHS.get(arch, (arch, ""))  # "": transformers cannot de-quantize it for training


def gguf_info(source: ModelSource) -> ModelInfo:
    try:
        header = read_gguf_header(source.path)
    except (OSError, ValueError) as exc:
        raise TuneDeskError(
            f"{source.path} could not be read as a GGUF file: {exc}.",
            hint="Check that the download finished; the file may be truncated.",
            kind="bad_model",
            where={"file": str(source.path)},
        ) from None
    field = header.get
    arch = str(field("general.architecture", ""))
    gname = str(field("general.name", source.name))
    model_type, architecture = _gguf_arch(arch, gname)
    heads = int(field(f"{arch}.attention.head_count", 0) or 0)
    hidden = int(field(f"{arch}.embedding_length", 0) or 0)
    tokens = field("tokenizer.ggml.tokens")
    n_tokens = tokens.count if isinstance(tokens, LongArray) else len(tokens or [])
    dtype = file_type_name(field("general.file_type"))
    kv = field(f"{arch}.attention.head_count_kv", heads)
    info = ModelInfo(
        name=source.name,
        source_kind=source.kind,
        path=str(source.path),
        architecture=architecture,
        model_type=model_type,
        num_layers=int(field(f"{arch}.block_count", 0) or 0),
        hidden_size=hidden,
        num_heads=heads,
        num_kv_heads=int(max(kv) if isinstance(kv, list) else kv or heads),
        head_dim=int(field(f"{arch}.attention.key_length", 0) or (hidden // heads if heads else 0)),
        intermediate_size=int(field(f"{arch}.feed_forward_length", 0) or 4 * hidden),
        vocab_size=int(field(f"{arch}.vocab_size", 0) or n_tokens),
        max_positions=int(field(f"{arch}.context_length", 0) or 2048),
        params=sum(header.tensors.values()),
        tied_embeddings="output.weight" not in header.tensors,
        dtype=dtype,
        size_on_disk_mb=round(source.path.stat().st_size / 2**20, 1),
        has_chat_template=bool(field("tokenizer.chat_template")),
        needs_trust_remote_code=False,
        weights_format="gguf",
    )
    if architecture:
        info.exportable, info.export_note = export_check(info.architecture)
    else:
        info.exportable, info.export_note = (
            False,
            (
                f"transformers cannot load '{arch}' GGUF files for training; use the model's original Hugging Face "
                "folder instead."
            ),
        )
    return info


def model_info(source: ModelSource) -> ModelInfo:
    """A ModelInfo for `source` (from resolve_model), without loading weights."""
    return gguf_info(source) if source.is_gguf else folder_info(source)
