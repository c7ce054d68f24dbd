"""Data-parallel pieces that need no second process: sharding of a global batch, the launcher's accelerate
config (read back by accelerate's own parser), the per-process memory estimate with FSDP, and the refusals."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.memory import estimate_memory
from tunedesk.core.presets.preset import Preset
from tunedesk.core.runs import RunConfig, create_run, load_config
from tunedesk.core.training.distributed import World, join_world
from tunedesk.core.training.launcher import CONFIG_NAME, accelerate_config, to_yaml, train_command

from .test_memory import LLAMA7B, SMOL


@pytest.mark.parametrize("size", [1, 2, 3, 4])
@pytest.mark.parametrize("n", [0, 1, 5, 8])
def test_shards_of_a_global_batch_cover_it_once_and_are_balanced(size: int, n: int) -> None:
    batch = list(range(100, 100 + n))
    shards = [World(rank, size).shard(batch) for rank in range(size)]
    assert sorted(i for shard in shards for i in shard) == batch
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


def test_a_world_of_one_communicates_nothing() -> None:
    world = World()
    assert world.is_main and not world.distributed
    assert world.sum([3, 4.5], "cpu") == [3.0, 4.5]
    assert join_world("cpu") == World()  # no launcher in this process's environment


def _cluster_config(tmp_path: Path, config: dict) -> object:
    from accelerate.commands.config.config_args import ClusterConfig

    path = tmp_path / "accelerate.yaml"
    path.write_text(to_yaml(config), encoding="utf-8")
    return ClusterConfig.from_yaml_file(str(path))


def test_launcher_config_is_one_accelerate_reads(tmp_path: Path) -> None:
    cluster = _cluster_config(tmp_path, accelerate_config(2, device="cpu", port=29555))
    # MULTI_GPU is what makes accelerate start N local processes through torch's elastic agent.
    assert cluster.distributed_type.value == "MULTI_GPU"
    assert (cluster.num_processes, cluster.num_machines, cluster.main_process_port) == (2, 1, 29555)
    assert cluster.use_cpu is False and cluster.mixed_precision == "no"


def test_two_machine_fsdp_config_starts_plain_processes(tmp_path: Path) -> None:
    # Each worker shards its own model with torch's FSDP2 (core/training/sharding.py): no accelerate plugin.
    config = accelerate_config(
        16, device="cuda", sharding="fsdp", machines=2, machine_rank=1, main_ip="10.0.0.1", port=29600
    )
    cluster = _cluster_config(tmp_path, config)
    assert cluster.distributed_type.value == "MULTI_GPU"
    assert (cluster.num_machines, cluster.machine_rank, cluster.main_process_ip) == (2, 1, "10.0.0.1")
    assert "fsdp_config" not in config


def test_fsdp_runs_on_a_cpu_but_not_on_mps() -> None:
    assert accelerate_config(2, device="cpu", sharding="fsdp")["distributed_type"] == "MULTI_GPU"
    with pytest.raises(TuneDeskError) as err:
        accelerate_config(2, device="mps", sharding="fsdp")
    assert err.value.where == {"field": "sharding"} and "sharding=none" in err.value.hint


def test_fsdp_shards_give_every_rank_the_same_number_of_calls() -> None:
    from tunedesk.core.training.sharding import missing_forwards, step_shards

    batches = [[0, 1, 2, 3], [4]]  # the last micro-batch of an epoch holds one example
    assert step_shards(World(1, 2), batches, fsdp=False) == [([1, 3], 1.0)]
    assert step_shards(World(1, 2), batches, fsdp=True) == [([1, 3], 1.0), ([4], 0.0)]
    assert step_shards(World(0, 2), batches, fsdp=True) == [([0, 2], 1.0), ([4], 1.0)]
    # 5 validation examples in batches of 2: rank 0 has 3 (2 batches), rank 1 has 2 (1 batch)
    assert [missing_forwards(5, World(r, 2), 2) for r in (0, 1)] == [0, 1]
    assert [missing_forwards(1, World(r, 2), 4) for r in (0, 1)] == [0, 1]
    assert [missing_forwards(8, World(r, 4), 2) for r in range(4)] == [0, 0, 0, 0]


def test_train_command_is_the_plain_worker_for_one_process_and_accelerate_for_more(tmp_path: Path) -> None:
    one = create_run(RunConfig(model="m", data="d.jsonl", device="cpu"), tmp_path / "one")
    assert train_command(one, load_config(one.root))[:3] == [sys.executable, "-m", "tunedesk.worker"]
    two = create_run(RunConfig(model="m", data="d.jsonl", device="cpu", processes=2), tmp_path / "two")
    command = train_command(two, load_config(two.root))
    assert command[:3] == [sys.executable, "-m", "accelerate.commands.launch"]
    assert command[-4:] == ["-m", "tunedesk.worker", "train", str(two.root)]
    config_file = Path(command[command.index("--config_file") + 1])
    assert config_file == two.root / CONFIG_NAME and "num_processes: 2" in config_file.read_text()


def test_processes_is_recorded_and_checked_in_the_run_config(tmp_path: Path) -> None:
    layout = create_run(RunConfig(model="m", data="d.jsonl", processes=3), tmp_path / "run")
    assert load_config(layout.root).processes == 3
    for bad in (0, -1, "2", True):
        with pytest.raises(TuneDeskError) as err:
            RunConfig.from_dict({"model": "m", "data": "d", "processes": bad})
        assert err.value.where["field"] == "processes"


def test_qlora_stays_single_device() -> None:
    with pytest.raises(TuneDeskError) as err:
        Preset.from_dict({"method": "qlora", "sharding": "fsdp"})
    assert err.value.where["field"] == "sharding" and "one device" in err.value.message
    with pytest.raises(TuneDeskError):
        Preset.from_dict({"sharding": "zero3"})


def test_fsdp_splits_weights_gradients_and_optimizer_per_process() -> None:
    full = Preset(method="full", precision="bf16", batch_size=1, seq_len=512, sharding="fsdp")
    one = estimate_memory(LLAMA7B, full, "cuda", 80_000)
    assert not one.fits  # a full fine-tune of 7B does not fit one 80 GB GPU
    per_rank = {n: estimate_memory(LLAMA7B, full, "cuda", 80_000, processes=n) for n in (2, 4, 8)}
    for n, est in per_rank.items():
        assert est.optimizer_mb == pytest.approx(one.optimizer_mb / n, rel=1e-3)
        assert est.gradients_mb == pytest.approx(one.gradients_mb / n, rel=1e-3)
        # A rank holds its 1/n of the weights plus two decoder layers gathered in full.
        layer = one.weights_mb / LLAMA7B.num_layers
        assert est.weights_mb == pytest.approx(one.weights_mb / n + 2 * layer, rel=1e-3)
        assert est.activations_mb == one.activations_mb  # each rank still runs its own batch
    assert per_rank[8].total_mb < per_rank[4].total_mb < per_rank[2].total_mb < one.total_mb
    assert per_rank[8].fits


def test_plain_data_parallel_costs_each_process_a_whole_copy_and_a_gradient_buffer() -> None:
    lora = Preset(batch_size=4, seq_len=256)
    one = estimate_memory(SMOL, lora, "cpu", None)
    two = estimate_memory(SMOL, lora, "cpu", None, processes=2)
    assert two.weights_mb == one.weights_mb and two.optimizer_mb == one.optimizer_mb
    assert two.gradients_mb == pytest.approx(one.gradients_mb * 3, abs=0.2)  # + concatenated + summed copy
    # sharding only means something with several processes
    assert estimate_memory(SMOL, replace(lora, sharding="fsdp"), "cpu", None).total_mb == one.total_mb


def test_the_cli_refuses_qlora_on_several_processes_before_anything_starts() -> None:
    from tunedesk.cli.train_cmd import check_processes

    with pytest.raises(TuneDeskError) as err:
        check_processes(2, Preset(method="qlora"), "cpu")
    assert err.value.where == {"field": "method"} and "one device" in err.value.message
    with pytest.raises(TuneDeskError, match="sharding=fsdp"):
        check_processes(2, Preset(sharding="fsdp", method="ia3"), "cpu")  # refused before launching
    check_processes(2, Preset(sharding="fsdp"), "cpu")  # LoRA sharded over two CPU processes
    check_processes(1, Preset(method="qlora"), "cuda")  # one process: QLoRA as always
    check_processes(2, Preset(), "cpu")  # LoRA on two CPU processes


@pytest.mark.parametrize(
    ("preset", "field"),
    [(Preset(method="qlora"), "method"), (Preset(sharding="fsdp", method="ia3"), "sharding")],
)
def test_a_launched_worker_refuses_what_it_cannot_train_before_joining(
    monkeypatch: pytest.MonkeyPatch, preset: Preset, field: str
) -> None:
    # `accelerate launch -m tunedesk.worker train RUN` bypasses the CLI's checks: the worker makes them.
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(TuneDeskError) as err:
        join_world("cuda", preset)
    assert err.value.where == {"field": field}
