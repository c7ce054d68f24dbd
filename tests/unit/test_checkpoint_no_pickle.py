"""A run folder from elsewhere cannot run code: checkpoint state is read with torch.load(weights_only=True)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.training.checkpoints import load_resume_files, restore_rng, rng_state


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # what a malicious optimizer.pt would carry
        return (Path.touch, (self.marker,))


def test_pickled_code_in_a_checkpoint_is_refused_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    folder = tmp_path / "step-4"
    folder.mkdir()
    torch.save({"state": {}, "param_groups": [], "x": _RunsCode(marker)}, folder / "optimizer.pt")
    with pytest.raises(TuneDeskError) as err:
        load_resume_files(folder)
    assert not marker.exists()
    assert "optimizer.pt" in err.value.message and "refuses" in err.value.message
    assert err.value.kind == "bad_checkpoint"


def test_rng_state_round_trips_through_a_weights_only_load(tmp_path: Path) -> None:
    folder = tmp_path / "step-1"
    folder.mkdir()
    torch.save(rng_state(), folder / "rng.pt")
    expected = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    restore_rng(load_resume_files(folder)["rng"])
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == expected
