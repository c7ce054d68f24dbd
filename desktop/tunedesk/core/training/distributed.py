"""Data-parallel training across processes, through Hugging Face accelerate.

The launcher (`accelerate launch`, which runs torch's elastic agent) starts one worker per process with
RANK/WORLD_SIZE/MASTER_ADDR in the environment; `join_world` joins that process group through accelerate's
PartialState (gloo on CPU, NCCL on CUDA). A worker started plainly is a world of one, and then nothing here
communicates, so the single-process path stays exactly what it was.

How the recipe uses a World:
- data: one optimizer step reads a *global* micro-batch of batch_size x world examples from the seeded
  order (batching.BatchPlan); rank r takes every world-th example of it (`shard`). So a step sees the same
  examples as a single process with the same global batch, and a resume needs only (epoch, batch_index).
- loss: label-token and real-token counts are summed over ranks before the forward pass, each rank divides
  its loss sum by the global count, and the gradients (with the loss sum riding along) are summed after the
  backward pass: the step's gradient is that of the mean over every labelled token of all ranks.
- validation: each rank scores its share of the validation examples; sums and counts are added up.
- control: rank 0 alone reads stdin and RUN_DIR/control; `poll_control` broadcasts its pause/cancel state.
- writing: rank 0 alone writes events, checkpoints, the adapter, the report and the general rows (the worker
  gives other ranks no event writer; the recipe asks `is_main` before writing files).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.preset import Preset
from tunedesk.core.training.control import Control

log = logging.getLogger("tunedesk.training")

# How long a collective may wait for a slow rank before the group gives up. Rank 0 alone writes checkpoints,
# generates sample answers and (on a base's first run) rehearsal's general answers while the others wait at
# the next collective, so this is generous; a *dead* rank is noticed at once (its sockets close) and the
# launcher tears the group down.
DEFAULT_TIMEOUT_S = 1800
FSDP_METHODS = ("lora", "dora")  # what sharding=fsdp trains (core/training/sharding.py)


def launched_distributed(env: dict[str, str] | None = None) -> bool:
    """True in a worker that a distributed launcher started as one of several processes."""
    env = os.environ if env is None else env
    return int(env.get("WORLD_SIZE", "1") or 1) > 1


@dataclass(frozen=True)
class World:
    """This process's place in the group; World() is a world of one."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    # ---- data ---------------------------------------------------------------------------------------
    def shard(self, items: Sequence[Any]) -> list[Any]:
        """This rank's share of a global batch (every size-th item from rank): balanced within one item."""
        return list(items[self.rank :: self.size])

    # ---- collectives --------------------------------------------------------------------------------
    def sum(self, values: Sequence[float], device: str) -> list[float]:
        """Element-wise sum over all ranks (float64, so token counts stay exact)."""
        if not self.distributed:
            return [float(v) for v in values]
        from accelerate.utils import reduce

        tensor = torch.tensor(list(values), dtype=torch.float64, device=device)
        return [float(v) for v in _collective(reduce, tensor, reduction="sum")]

    def sum_gradients(self, params: Sequence[torch.nn.Parameter], extra: float, device: str) -> float:
        """Replace each trainable parameter's gradient by its sum over ranks; also sums `extra` (the loss).

        One flat buffer, one collective. A rank without examples in this step (the last, partial batch of an
        epoch) contributes zeros, so every rank ends with identical gradients and takes the identical step.
        """
        if not self.distributed:
            return extra
        from accelerate.utils import reduce

        flat = [p.grad.reshape(-1) if p.grad is not None else torch.zeros(p.numel(), device=p.device)
                for p in params]  # fmt: skip
        buffer = torch.cat([t.float() for t in flat] + [torch.tensor([extra], device=flat[0].device)])
        summed = _collective(reduce, buffer.to(device), reduction="sum")
        offset = 0
        for p in params:
            n = p.numel()
            grad = summed[offset : offset + n].view_as(p).to(p.dtype)
            if p.grad is None:
                p.grad = grad.clone()
            else:
                p.grad.copy_(grad)
            offset += n
        return float(summed[-1])

    def barrier(self) -> None:
        if self.distributed:
            from accelerate import PartialState

            _collective(PartialState().wait_for_everyone)

    @contextlib.contextmanager
    def main_first(self) -> Iterator[None]:
        """Rank 0 runs the block first (it may write caches or the data split); the others follow."""
        if not self.is_main:
            self.barrier()
        yield
        if self.is_main:
            self.barrier()

    # ---- control ------------------------------------------------------------------------------------
    def poll_control(self, control: Control, device: str) -> None:
        """Rank 0 reads its control sources; every rank then holds rank 0's pause/cancel state."""
        if self.is_main:
            control.poll()
        if not self.distributed:
            return
        from accelerate.utils import broadcast

        flags = torch.tensor([int(control.paused), int(control.cancelled)], device=device)
        paused, cancelled = (bool(v) for v in _collective(broadcast, flags, from_process=0).tolist())
        if not self.is_main:
            control.paused, control.cancelled = paused, cancelled
            if cancelled:
                control.cancel_reason = control.cancel_reason or "rank 0"

    def wait_while_paused(self, control: Control, device: str, interval: float = 0.2) -> None:
        """Block between steps while paused, all ranks together; returns on resume or cancel."""
        if not self.distributed:
            control.wait_while_paused(interval)
            return
        while control.paused and not control.cancelled:
            time.sleep(interval)
            self.poll_control(control, device)


def _collective(operation: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a collective; a rank that died (its sockets closed) or timed out becomes a clear error."""
    try:
        return operation(*args, **kwargs)
    except RuntimeError as exc:  # torch's DistBackendError, gloo's "Connection closed by peer", NCCL errors
        log.debug("collective failed", exc_info=exc)
        raise TuneDeskError(
            "Another process of this data-parallel run stopped (or stopped answering), so training stopped.",
            hint="The other processes' messages are on the launcher's stderr. `tunedesk resume RUN_DIR` "
            "continues from the last checkpoint with the same number of processes.",
            kind="process_lost",
            where={"detail": str(exc).splitlines()[0][:300]},
        ) from exc


def check_parallel_preset(preset: Preset) -> None:
    """Refuse what this trainer cannot do on several processes; the CLI asks before launching, each rank again.

    QLoRA stays on one device; sharding=fsdp (core/training/sharding.py) trains LoRA and DoRA adapters.
    """
    if preset.method == "qlora":
        raise TuneDeskError(
            "QLoRA trains on one device: it cannot run on several processes.",
            hint="Use one process, or --set method=lora for a data-parallel run.",
            kind="bad_setting",
            where={"field": "method"},
        )
    if preset.sharding == "fsdp" and preset.method not in FSDP_METHODS:
        # FSDP checkpoints gather only the trainable (adapter) weights; a whole model, or a prefix encoder
        # outside the decoder layers, is not gathered or re-split by core/training/sharding.py.
        raise TuneDeskError(
            f"sharding=fsdp trains {' or '.join(FSDP_METHODS)} adapters; this preset's method is {preset.method}.",
            hint="Use --set method=lora, or --set sharding=none (a whole copy per process).",
            kind="bad_setting",
            where={"field": "sharding"},
        )


def join_world(device: str, preset: Preset | None = None) -> World:
    """Join the launcher's process group (a world of one when the worker was started plainly).

    Every rank also watches its parent: the launcher keeps each worker in a session of its own, so a launcher
    killed with -9 could leave its workers training on; a worker whose parent is gone ends itself at once.
    """
    if not launched_distributed():
        return World()
    check_parallel_preset(preset or Preset())
    from accelerate import PartialState

    timeout = timedelta(seconds=float(os.environ.get("TUNEDESK_DIST_TIMEOUT", DEFAULT_TIMEOUT_S)))
    state = PartialState(cpu=device == "cpu", timeout=timeout)
    _watch_parent(os.getppid())
    world = World(state.process_index, state.num_processes, state.local_process_index)
    log.info("rank %s of %s (%s backend)", world.rank, world.size, state.backend)
    return world


def _watch_parent(parent: int, interval: float = 1.0) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        log.error("the launcher (pid %s) is gone: ending this rank", parent)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="tunedesk-parent-watch", daemon=True).start()


def leave_world(world: World) -> None:
    """Tear the process group down (a clean exit, so the launcher does not wait for a timeout)."""
    if world.distributed and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
