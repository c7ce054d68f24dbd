from __future__ import annotations

import json
import os

import pytest

from tunedesk.core import runs
from tunedesk.core.atomic import write_json_atomic, write_text_atomic
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.protocol import EventWriter
from tunedesk.core.runs import RunConfig, create_run, load_config, summarize_run


def test_create_and_load_roundtrip(tmp_path) -> None:
    cfg = RunConfig(model="starter", data="x.jsonl", name="My notes")
    layout = create_run(cfg)
    assert layout.root.parent == runs.runs_dir() if hasattr(runs, "runs_dir") else True
    assert "my-notes" in layout.root.name
    again = load_config(layout.root)
    assert again.to_dict() == cfg.to_dict() and again.digest() == cfg.digest()


def test_create_refuses_non_empty_folder(tmp_path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "keep.txt").write_text("user data")
    with pytest.raises(TuneDeskError, match="already exists"):
        create_run(RunConfig(model="m", data="d"), out=tmp_path / "run")
    assert (tmp_path / "run" / "keep.txt").read_text() == "user data"


@pytest.mark.parametrize(
    "content, match",
    [
        ("{broken", "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"data": "x"}', "no model"),
        ('{"model": "m", "data": "d", "colour": 1}', "unknown field"),
        ('{"model": "m", "data": "d", "version": 99}', "version 99"),
        ('{"model": "m", "data": "d", "preset": {"lora_r": "big"}}', "lora_r"),
    ],
)
def test_bad_configs_are_explained(tmp_path, content: str, match: str) -> None:
    (tmp_path / "config.json").write_text(content)
    with pytest.raises(TuneDeskError, match=match):
        load_config(tmp_path)


def test_missing_config(tmp_path) -> None:
    with pytest.raises(TuneDeskError, match="not a TuneDesk run folder"):
        load_config(tmp_path)


def test_summary_reads_events_and_detects_a_crash(tmp_path) -> None:
    layout = create_run(RunConfig(model="m", data="d"), out=tmp_path / "r")
    w = EventWriter(log_path=layout.events)
    w.emit("started", run_dir=str(layout.root), total_steps=10)
    w.emit("eval", step=0, val_loss=3.0, best_val_loss=3.0)
    w.emit("step", step=4, total_steps=10, loss=2.0)
    w.emit("eval", step=4, val_loss=2.5, best_val_loss=2.5)
    (layout.checkpoint(4)).mkdir(parents=True)
    # No worker.pid and no finished event: the worker died.
    s = summarize_run(layout.root)
    assert (s.status, s.step, s.total_steps, s.base_val_loss, s.best_val_loss) == ("crashed", 4, 10, 3.0, 2.5)
    assert s.resumable
    # A live worker (this process stands in for it) means running.
    layout.pid.write_text(json.dumps(runs.pid_info()))
    assert summarize_run(layout.root).status == "running"
    w.emit("finished", status="completed", best_val_loss=2.4)
    s = summarize_run(layout.root)
    assert (s.status, s.best_val_loss, s.resumable) == ("completed", 2.4, False)
    assert [r.path for r in runs.list_runs(tmp_path)] == [layout.root]


def test_atomic_write_leaves_old_file_on_failure(tmp_path) -> None:
    target = tmp_path / "config.json"
    write_json_atomic(target, {"a": 1})

    class Boom:
        pass

    with pytest.raises(TypeError):
        write_text_atomic(target, Boom())  # type: ignore[arg-type]
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]
    assert oct(os.stat(target).st_mode)  # readable
