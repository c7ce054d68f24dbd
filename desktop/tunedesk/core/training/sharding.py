"""sharding=fsdp: each process holds 1/N of the weights, gradients and optimizer state (torch's FSDP2).

`shard_model` applies `fully_shard` to every decoder layer (the model's own `_no_split_modules`) and then to
the root, so frozen base weights and trainable adapter weights of one layer share one unit. What the
recipe needs to know about a sharded model:

- Every rank must make the same number of forward (and backward) calls: each one all-gathers the layers'
  weights from all ranks. So a rank without examples in a micro-batch runs one on a zero-weighted example
  (`step_shards`), a rank with fewer validation batches runs idle ones (`missing_forwards`), and nothing
  runs a sharded forward on rank 0 alone (sample answers are skipped; the forgetting measure runs on all).
- Sums, not means: each rank divides its loss sum by the global labelled-token count, so the gradients must
  be summed over ranks. The gradient divide factor is set to 1 (FSDP's reduce-scatter then sums).
- Saving: `full_adapter_state` and `full_optimizer_state` gather full tensors on every rank (collectives);
  rank 0 writes them in exactly the files of a one-process run. Loading spreads the full tensors of those
  files back into each rank's shards, so a run resumes on any number of processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.preset import Preset
from tunedesk.core.training.distributed import World


def uses_fsdp(preset: Preset, world: World) -> bool:
    return world.distributed and preset.sharding == "fsdp"


def is_sharded(model: Any) -> bool:
    if not torch.distributed.is_available():
        return False
    from torch.distributed.fsdp import FSDPModule

    return isinstance(model, FSDPModule)


def shard_model(model: Any, device: str) -> Any:
    """fully_shard each decoder layer, then the root; gradients are summed over ranks (divide factor 1).

    The model may be on the CPU: fully_shard moves each unit's weights to the mesh's device and keeps this
    rank's shard there, one layer at a time, so the device never holds more than its share plus one layer.
    """
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import FSDPModule, fully_shard

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    names = set(getattr(base, "_no_split_modules", None) or [])
    layers = [m for m in model.modules() if type(m).__name__ in names]
    if not layers:
        raise TuneDeskError(
            f"FSDP cannot find the decoder layers of this model ({type(base).__name__}).",
            hint="Use --set sharding=none (a whole copy per process).",
            kind="method_unavailable",
            where={"field": "sharding"},
        )
    # The mesh on the run's device: left to itself FSDP picks CUDA wherever there is one, even for a CPU run.
    mesh = init_device_mesh(torch.device(device).type, (torch.distributed.get_world_size(),))
    for layer in layers:
        fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    for module in model.modules():
        if isinstance(module, FSDPModule):
            module.set_gradient_divide_factor(1.0)
            module.set_force_sum_reduction_for_comms(True)  # gloo has no PREMUL_SUM
    return model


def step_shards(
    world: World, global_batches: Sequence[Sequence[int]], fsdp: bool
) -> list[tuple[list[int], float]]:
    """(this rank's example indices, weight) for each global micro-batch of a step.

    An empty share (the last, partial batch of an epoch) is skipped without FSDP; with FSDP the rank still
    takes part with the batch's first example at weight 0, so every rank makes the same number of calls.
    """
    out = []
    for idx in global_batches:
        mine = world.shard(idx)
        if mine:
            out.append((mine, 1.0))
        elif fsdp and idx:
            out.append(([idx[0]], 0.0))
    return out


def missing_forwards(n_items: int, world: World, batch_size: int) -> int:
    """How many fewer batches this rank's share of n_items has than rank 0's (which has the most)."""
    mine = len(range(world.rank, n_items, world.size))
    most = len(range(0, n_items, world.size))
    return -(-most // batch_size) - -(-mine // batch_size)


@torch.no_grad()
def idle_forwards(loss_fn: Any, example: Any, count: int, pad_id: int, device: str) -> None:
    """Forward calls whose result is thrown away: this rank's part in the others' all-gathers."""
    model = loss_fn.model
    was_training = model.training
    model.eval()
    try:
        for _ in range(count):
            loss_fn(loss_fn.collate([example], pad_id).to(device))
        loss_fn.pop_metrics()
    finally:
        model.train(was_training)


def clip_gradients(params: Sequence[torch.nn.Parameter], max_norm: float) -> float:
    """Clip sharded (DTensor) gradients by their global norm; returns that norm, the same on every rank."""
    from torch.distributed.tensor import DTensor

    grads = [p.grad for p in params if p.grad is not None]
    total = torch.nn.utils.get_total_norm(grads)
    if isinstance(total, DTensor):
        total = total.full_tensor()
    torch.nn.utils.clip_grads_with_norm_(params, max_norm, total)
    return float(total)


def _full(tensor: Any) -> torch.Tensor:
    from torch.distributed.tensor import DTensor

    return (tensor.full_tensor() if isinstance(tensor, DTensor) else tensor).detach().cpu()


def full_adapter_state(model: Any) -> dict[str, torch.Tensor]:
    """{name: full tensor} of the trainable weights, on every rank (a collective: all ranks call it)."""
    return {name: _full(p) for name, p in model.named_parameters() if p.requires_grad}


def full_optimizer_state(optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """optimizer.state_dict() with full tensors: the one-process format (a collective: all ranks call it)."""
    state = optimizer.state_dict()
    state["state"] = {
        index: {key: _full(value) if isinstance(value, torch.Tensor) else value for key, value in s.items()}
        for index, s in state["state"].items()
    }
    return state


def _spread(full: torch.Tensor, like: Any) -> Any:
    """`full` split the way the parameter `like` is (a collective for DTensors)."""
    from torch.distributed.tensor import DTensor, distribute_tensor

    if not isinstance(like, DTensor):
        return full.to(like.device, like.dtype)
    return distribute_tensor(full.to(like.device, like.dtype), like.device_mesh, like.placements)


@torch.no_grad()
def load_full_adapter(model: Any, weights: dict[str, torch.Tensor], folder: Any) -> None:
    """Load an adapter file's full tensors into a sharded peft model (file keys as peft writes them)."""
    from peft import get_peft_model_state_dict

    params = {name: p for name, p in model.named_parameters() if p.requires_grad}
    names = list(params)
    # Ask peft how it names each trainable weight in its file: pass it the parameters' positions as values.
    file_keys = get_peft_model_state_dict(model, state_dict={n: torch.tensor(i) for i, n in enumerate(names)})
    by_file_key = {key: names[int(pos)] for key, pos in file_keys.items()}
    unknown = sorted(set(weights) - set(by_file_key))
    if unknown:
        raise TuneDeskError(
            f"The checkpoint {folder} does not match this run's adapter settings.",
            hint="The preset was changed after the run started: start a new run instead of resuming.",
            kind="bad_checkpoint",
            where={"folder": str(folder)},
        )
    for key in sorted(weights):
        param = params[by_file_key[key]]
        param.copy_(_spread(weights[key], param))


def load_full_optimizer(optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
    """Load a one-process optimizer state (full tensors) into an optimizer over sharded parameters."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    spread = {}
    for index in sorted(state["state"]):
        param = params[int(index)]
        spread[index] = {
            key: _spread(value, param)
            if isinstance(value, torch.Tensor) and value.shape == param.shape
            else value
            for key, value in state["state"][index].items()
        }
    optimizer.load_state_dict({**state, "state": spread})
