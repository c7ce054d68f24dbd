"""Paths from run files and user data never lead outside their folder: a run folder from elsewhere with links
out or '..' in its config is refused before anything is written, and names become plain file names."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tunedesk.core.chat.feedback import feedback_path
from tunedesk.core.confine import inside, safe_file_stem
from tunedesk.core.errors import TuneDeskError
from tunedesk.core.paths import runs_dir
from tunedesk.core.runs import RunConfig, create_run, load_config, new_run_id

HOSTILE_NAMES = ["../../etc/passwd", "/etc/passwd", "..", ".", "a/../../b", "C:\\Windows\\x", "~root", "\x00"]


def make_run(root: Path, data: str = "/somewhere/data.jsonl") -> Path:
    create_run(RunConfig(model="starter", data=data, name="r"), root)
    return root


def test_a_checkpoints_link_out_of_the_run_is_refused_and_the_target_untouched(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    outside = tmp_path / "precious"
    (outside / "step-1").mkdir(parents=True)
    (run / "checkpoints").symlink_to(outside)
    with pytest.raises(TuneDeskError) as info:
        load_config(run)
    err = info.value
    assert err.kind == "path_outside" and err.where["field"] == "checkpoints"
    assert str(outside) in err.message and err.hint
    assert (outside / "step-1").is_dir()


@pytest.mark.parametrize("part", ["export", "data", "adapter", "best"])
def test_every_written_part_is_checked(tmp_path: Path, part: str) -> None:
    run = make_run(tmp_path / "run")
    (tmp_path / "elsewhere").mkdir()
    (run / part).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(TuneDeskError, match=f"'{part}' leads outside"):
        load_config(run)


def test_a_link_inside_a_checkpoints_folder_leading_out_is_refused(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    (run / "checkpoints").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (run / "checkpoints" / "step-4").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(TuneDeskError) as info:
        load_config(run)
    assert info.value.where["field"] == "checkpoints/step-4"


def test_links_that_stay_inside_the_run_are_fine(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    (run / "checkpoints" / "step-2").mkdir(parents=True)
    (run / "best").symlink_to(run / "checkpoints" / "step-2")
    assert load_config(run).model == "starter"


def test_dataset_paths_that_stay_put_load(tmp_path: Path) -> None:
    assert load_config(make_run(tmp_path / "run", data="mine.jsonl")).data == "mine.jsonl"
    absolute = str(tmp_path / "any" / "data.jsonl")  # the user's own choice, wherever it is
    assert load_config(make_run(tmp_path / "run2", data=absolute)).data == absolute


def test_a_dataset_path_climbing_out_of_the_run_folder_is_refused(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    config = json.loads((run / "config.json").read_text())
    config["data"] = "../../../home/someone/.ssh/id_rsa"
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(TuneDeskError) as info:
        load_config(run)
    assert info.value.where == {
        "folder": str(run),
        "field": "data",
        "path": "../../../home/someone/.ssh/id_rsa",
    }


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_names_from_users_and_run_files_become_plain_file_names(name: str) -> None:
    for made in (safe_file_stem(name), new_run_id(name), feedback_path(name).name):
        assert "/" not in made and "\\" not in made and made not in ("", ".", "..") and "\x00" not in made
    assert feedback_path(name).parent == feedback_path("x").parent


def test_a_hostile_run_name_stays_under_the_runs_folder() -> None:
    layout = create_run(RunConfig(model="starter", data="/d.jsonl", name="../../../../tmp/evil"))
    assert layout.root.parent == runs_dir()


def test_inside_resolves_links_and_dots(tmp_path: Path) -> None:
    (tmp_path / "base" / "sub").mkdir(parents=True)
    assert inside(tmp_path / "base", "sub/../sub", "f") == (tmp_path / "base" / "sub").resolve()
    os.symlink(tmp_path, tmp_path / "base" / "up")
    with pytest.raises(TuneDeskError):
        inside(tmp_path / "base", "up", "f")
