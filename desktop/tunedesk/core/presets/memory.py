"""How much memory a training run will need, before it starts, so a preset can be sized to the machine.

    total = weights + adapter + gradients + optimizer + activations + logits + overhead

All constants live in CONSTANTS below, each with where it comes from, so they can be calibrated against
measured peaks. Calibration points: transformers Trainer + peft LoRA r=16 on q/k/v/o, batch 8, rows of ~100
tokens (seq_len 128), SmolLM2-135M in fp32 on the CPU peaked at about 4 GB RSS (FINDINGS; tests/unit/
test_memory.py holds it to within 25%); and bench/scale.py's six TuneDesk runs on the CPU (random models of
the SmolLM2 shapes at 135M, 360M and 1.7B, seq_len 128 to 1024, bf16): the estimate is within 8% of each
worker's measured peak (bench/RESULTS.md). DPO (objective dpo) counts two rows per pair.

With several processes the estimate is per process (each has its own memory budget: one GPU). Plain data
parallel keeps a whole copy everywhere and adds the flat gradient buffer that is summed over the ranks;
FSDP (sharding=fsdp, FULL_SHARD) splits weights, gradients and optimizer state over the ranks and gathers
one wrapped layer at a time in full, with the next one prefetched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tunedesk.core.formatting import gb as _gb
from tunedesk.core.models.info import ModelInfo
from tunedesk.core.presets.preset import Preset

CONSTANTS: dict[str, float] = {
    # Bytes per weight by training precision. QLoRA: NF4 is 4 bits plus one absmax per 64 weights, itself
    # 8-bit with double quantization (~0.127 extra bits): 0.52 bytes. Embeddings/lm_head stay 16-bit.
    "bytes_fp32": 4.0,
    "bytes_16bit": 2.0,
    "bytes_nf4": 0.52,
    # Per trainable parameter: gradient (fp32, 4) + AdamW's two moments (fp32, 8). LoRA adapters are kept
    # in fp32 by peft even when the base is 16-bit, so their weights cost 4 more.
    "grad_bytes": 4.0,
    "adam_bytes": 8.0,
    # Activations kept for the backward pass, in elements per token per layer: ~12 x hidden (norms, q/k/v/o
    # inputs and outputs, rotary copies, attention output, LoRA dropout copies) + 5 x intermediate (gate,
    # up, activation, product, down input) -- from walking a Llama block's autograd graph.
    "act_hidden_factor": 12.0,
    "act_inter_factor": 5.0,
    # Logits are upcast to fp32 for the loss: the logits and their gradient are alive at once (the log-softmax
    # is fused into the loss).
    "logit_copies": 2.0,
    # DPO: each pair is two rows (the prompt with the chosen answer, and with the rejected one).
    "dpo_rows_per_pair": 2.0,
    # Off CUDA, attention runs on the plain (math) path, which keeps each layer's attention probabilities,
    # batch x heads x seq_len^2, for the backward pass: the part that grows with the square of the length.
    # CUDA's fused kernels (flash / memory-efficient) keep none.
    "attn_prob_copies": 1.0,
    # Framework baseline: torch + transformers + peft + data in the process (CPU/MPS RSS), or the CUDA
    # context and cuBLAS workspaces (GPU memory).
    "overhead_cpu_mb": 900.0,
    "overhead_cuda_mb": 700.0,
    # Allocator slack: glibc malloc on CPU fragments more than the CUDA caching allocator.
    "slack_cpu": 1.2,
    "slack_gpu": 1.1,
    # FSDP gathers a wrapped unit (one decoder layer) in full for its forward/backward, and prefetches the
    # next one (BACKWARD_PRE): two unsharded layers alive at once.
    "fsdp_gathered_layers": 2.0,
    # Data parallel without sharding: the gradients are concatenated into one buffer and summed into a
    # second (core/training/distributed.py), both fp32.
    "dp_grad_buffers": 2.0,
    # "Fits comfortably" leaves this share of the available memory unused.
    "comfort": 0.85,
}


@dataclass
class MemoryEstimate:
    weights_mb: float
    adapter_mb: float
    gradients_mb: float
    optimizer_mb: float
    activations_mb: float
    overhead_mb: float
    total_mb: float
    available_mb: float | None
    trainable_params: int
    fits: bool
    comfortable: bool
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def lora_params(info: ModelInfo, r: int, target_modules: str) -> int:
    """Trainable parameters of a LoRA of rank r: r x (in + out) for every adapted linear layer."""
    h, d = info.hidden_size, info.head_dim or info.hidden_size // max(info.num_heads, 1)
    q, kv, inter = info.num_heads * d, (info.num_kv_heads or info.num_heads) * d, info.intermediate_size
    attention = (h + q) + 2 * (h + kv) + (q + h)
    mlp = 2 * (h + inter) + (inter + h)
    per_layer = (
        attention if target_modules.strip().lower() in ("attention", "q,k,v,o", "qkvo") else attention + mlp
    )
    return info.num_layers * r * per_layer


def _bytes_per_value(preset: Preset, device: str) -> tuple[float, float]:
    """Bytes per activation and per stored weight, as core/training/model_setup.pick_precision loads them:
    16-bit compute keeps an adapter method's frozen base in 16 bits, but full fine-tuning keeps fp32 master
    weights; off CUDA only bf16 is used (fp16 falls back to fp32). QLoRA's non-block parts are 16-bit."""
    c = CONSTANTS
    if preset.method == "qlora":
        return c["bytes_16bit"], c["bytes_16bit"]
    sixteen = preset.precision == "bf16" or (preset.precision == "fp16" and device == "cuda")
    act = c["bytes_16bit"] if sixteen else c["bytes_fp32"]
    weights = c["bytes_fp32"] if preset.method == "full" or not sixteen else c["bytes_16bit"]
    return act, weights


def _advice(preset: Preset, device: str) -> str:
    if preset.method == "full":
        return "try LoRA"
    if device == "cuda" and preset.method != "qlora":
        return "try QLoRA or a shorter sequence length"
    tips = []
    if preset.batch_size > 1:
        tips.append("a smaller batch")
    tips.append("a shorter sequence length")
    if not preset.gradient_checkpointing:
        tips.append("gradient checkpointing")
    return (
        "try " + ", ".join(tips[:-1]) + (" or " if len(tips) > 1 else "") + tips[-1] + " or a smaller model"
    )


def estimate_memory(
    info: ModelInfo, preset: Preset, device: str, available_mb: float | None, processes: int = 1
) -> MemoryEstimate:
    """Peak memory of one process training `info` with `preset` on `device` ("cpu", "cuda", "mps"), in MB,
    when `processes` train it data-parallel (`available_mb` is then one process's share: one GPU)."""
    c = CONSTANTS
    mb = 2**20
    act_bytes, weight_bytes = _bytes_per_value(preset, device)
    if preset.method == "qlora":
        block = info.block_linear_params
        weights = block * c["bytes_nf4"] + (info.params - block) * c["bytes_16bit"]
    else:
        weights = info.params * weight_bytes

    if preset.method == "full":
        trainable = info.params
        adapter = 0.0
        grads = trainable * weight_bytes
    else:
        target = "attention" if preset.method == "prefix" else preset.target_modules
        trainable = lora_params(info, preset.lora_r, target)
        if preset.method == "ia3":
            trainable = max(trainable // max(preset.lora_r, 1) // 2, 1)  # one vector per adapted layer
        adapter = trainable * c["bytes_fp32"]
        if preset.objective == "dpo" and preset.init_adapter:
            adapter *= 2  # the reference: a frozen copy of the adapter the run started from (AdapterSnapshot)
        grads = trainable * c["grad_bytes"]
    optimizer = trainable * c["adam_bytes"]
    if processes > 1 and preset.sharding == "fsdp":
        layer = weights / max(info.num_layers, 1)  # embeddings counted in: errs on the safe side
        weights = weights / processes + layer * c["fsdp_gathered_layers"]
        adapter, grads, optimizer = adapter / processes, grads / processes, optimizer / processes
    elif processes > 1:
        grads += trainable * c["bytes_fp32"] * c["dp_grad_buffers"]

    # DPO's batch holds both sides of each pair: chosen and rejected rows go through the model together.
    # Its reference pass (no_grad, before the policy's) keeps no activations, and its logits are freed once
    # it has its per-row log-probabilities, so the policy's backward pass is still the peak.
    rows = preset.batch_size * (c["dpo_rows_per_pair"] if preset.objective == "dpo" else 1)
    tokens = rows * preset.seq_len
    per_layer = info.hidden_size * c["act_hidden_factor"] + info.intermediate_size * c["act_inter_factor"]
    if preset.gradient_checkpointing:  # only each layer's input is kept; one layer is recomputed at a time
        layer_act = tokens * (info.num_layers * info.hidden_size + per_layer) * act_bytes
    else:
        layer_act = tokens * info.num_layers * per_layer * act_bytes
    logits = tokens * info.vocab_size * c["bytes_fp32"] * c["logit_copies"]
    attention = 0.0
    if device != "cuda":
        kept_layers = 1 if preset.gradient_checkpointing else info.num_layers
        attention = rows * max(info.num_heads, 1) * preset.seq_len**2 * kept_layers * act_bytes
        attention *= c["attn_prob_copies"]
    activations = layer_act + logits + attention

    gpu = device in ("cuda",)
    slack = c["slack_gpu"] if gpu else c["slack_cpu"]
    overhead_mb = c["overhead_cuda_mb"] if gpu else c["overhead_cpu_mb"]
    dynamic = (weights + adapter + grads + optimizer + activations) / mb
    total_mb = dynamic * slack + overhead_mb

    fits = available_mb is None or total_mb <= available_mb
    comfortable = available_mb is None or total_mb <= available_mb * c["comfort"]
    if available_mb is None:
        verdict = f"needs about {_gb(total_mb)} (free memory unknown)"
    elif fits:
        verdict = f"fits with {_gb(available_mb - total_mb)} to spare"
        if not comfortable:
            verdict += " (tight: close other programs)"
    else:
        verdict = f"does not fit: needs {_gb(total_mb)}, {_gb(available_mb)} free — {_advice(preset, device)}"
    return MemoryEstimate(
        weights_mb=round(weights / mb, 1),
        adapter_mb=round(adapter / mb, 1),
        gradients_mb=round(grads / mb, 1),
        optimizer_mb=round(optimizer / mb, 1),
        activations_mb=round(activations / mb, 1),
        overhead_mb=round(overhead_mb + dynamic * (slack - 1), 1),
        total_mb=round(total_mb, 1),
        available_mb=None if available_mb is None else round(available_mb, 1),
        trainable_params=int(trainable),
        fits=fits,
        comfortable=comfortable,
        verdict=verdict,
    )
