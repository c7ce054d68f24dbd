"""Made-up machines and models for tests that choose or size presets without a real probe or a real model."""

from __future__ import annotations

from tunedesk.core.hardware.info import CudaDevice, HardwareInfo
from tunedesk.core.models.info import ModelInfo

# SmolLM2-135M as model_info reads it from the starter GGUF (test_models checks those numbers).
SMOL = ModelInfo(
    name="SmolLM2-135M",
    architecture="LlamaForCausalLM",
    num_layers=30,
    hidden_size=576,
    num_heads=9,
    num_kv_heads=3,
    head_dim=64,
    intermediate_size=1536,
    vocab_size=49152,
    max_positions=8192,
    params=134_515_008,
    tied_embeddings=True,
)
# Llama-2-7B's published config.
LLAMA7B = ModelInfo(
    name="Llama-2-7b",
    architecture="LlamaForCausalLM",
    num_layers=32,
    hidden_size=4096,
    num_heads=32,
    num_kv_heads=32,
    head_dim=128,
    intermediate_size=11008,
    vocab_size=32000,
    max_positions=4096,
    params=6_738_415_616,
    has_chat_template=True,
    exportable=True,
)


def hardware(**kw: object) -> HardwareInfo:
    """An 8-core, 32 GB machine with FINDINGS' measured CPU speeds; keyword arguments change any field."""
    base = dict(
        cpu_physical_cores=8,
        cpu_logical_cores=16,
        ram_total_mb=32_768,
        ram_available_mb=24_000,
        cpu_fp32_gflops=157.0,
        cpu_bf16_gflops=47.0,
        disk_free_mb=200_000,
    )
    return HardwareInfo(**{**base, **kw})  # type: ignore[arg-type]


def gpu(gb: float, cap: str = "8.6", bf16: bool = True, index: int = 0) -> CudaDevice:
    return CudaDevice(index, f"Test GPU {gb:g} GB", gb * 1024, gb * 1024 - 300, cap, bf16)
