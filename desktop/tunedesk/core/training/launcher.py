"""Starting a run on several processes: accelerate's launcher, fed a config file TuneDesk writes.

`tunedesk train --processes N` (and `tunedesk resume` of such a run) writes RUN_DIR/accelerate.yaml and starts

    python -m accelerate.commands.launch --config_file RUN_DIR/accelerate.yaml --main_process_port P \
        -m tunedesk.worker train RUN_DIR

accelerate hands the processes to torch's elastic agent, which starts every rank in a session of its own,
watches them, and tears the whole group down when one of them dies (SIGTERM, then SIGKILL after 30 s).
Passing the file explicitly keeps a user's own default accelerate config (which might, say, turn DeepSpeed
on) out of TuneDesk's runs; a user who wants several machines writes their own (docs/distributed.md).

The config says MULTI_GPU even on a CPU: that is what makes accelerate start N local processes through the
elastic agent (MULTI_CPU means mpirun); the worker then joins with gloo because its device is the CPU.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

from tunedesk.core.atomic import write_text_atomic
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.launch import worker_command
from tunedesk.core.runs import RunConfig, RunLayout

CONFIG_NAME = "accelerate.yaml"


def accelerate_config(
    processes: int,
    *,
    device: str,
    sharding: str = "none",
    machines: int = 1,
    machine_rank: int = 0,
    main_ip: str | None = None,
    port: int = 29500,
) -> dict[str, Any]:
    """An accelerate config (the format `accelerate config` writes) for `processes` in all, over `machines`."""
    if sharding == "fsdp" and device == "mps":
        raise TuneDeskError(
            "FSDP sharding needs CUDA GPUs or the CPU (gloo); this run trains on the mps device.",
            hint="Use --set sharding=none to train data-parallel with a whole copy per process.",
            kind="bad_setting",
            where={"field": "sharding"},
        )
    # sharding=fsdp needs nothing from accelerate: each worker shards its own model with torch's FSDP2
    # (core/training/sharding.py), so the launcher starts the same plain processes either way.
    config: dict[str, Any] = {
        "compute_environment": "LOCAL_MACHINE",
        "distributed_type": "MULTI_GPU",
        "num_processes": processes,
        "num_machines": machines,
        "machine_rank": machine_rank,
        "main_process_port": port,
        "rdzv_backend": "static",
        "same_network": True,
        "gpu_ids": "all",
        "mixed_precision": "no",  # the recipe casts by itself (autocast), as on one device
        "dynamo_config": {},
        "use_cpu": False,  # see the module docstring: MULTI_GPU is how N local processes start
        "debug": False,
    }
    if main_ip is not None:
        config["main_process_ip"] = main_ip
    return config


def to_yaml(config: dict[str, Any]) -> str:
    import yaml  # accelerate's own dependency

    return yaml.safe_dump(config, sort_keys=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def train_command(layout: RunLayout, config: RunConfig) -> list[str]:
    """The command that trains `layout`: the plain worker, or accelerate's launcher for several processes."""
    if config.processes <= 1:
        return worker_command("train", str(layout.root))
    if getattr(sys, "frozen", False):
        raise TuneDeskError(
            "Training on several processes needs TuneDesk installed from source or pip, not the bundled app.",
            hint="Train with one process here, or install TuneDesk with pip on the training machine.",
            kind="method_unavailable",
            where={"field": "processes"},
        )
    port = free_port()
    path = layout.root / CONFIG_NAME
    accel = accelerate_config(
        config.processes, device=config.device, sharding=config.preset.sharding, port=port
    )
    write_text_atomic(path, to_yaml(accel))
    return [
        sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(path),
        "--main_process_port", str(port), "--monitor_interval", "0.5",
        "-m", "tunedesk.worker", "train", str(layout.root),
    ]  # fmt: skip
