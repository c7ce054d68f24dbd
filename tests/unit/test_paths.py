"""Where files are kept, as the Help menu says it: everything under the one home TUNEDESK_HOME moves."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunedesk.core.offline import PRIVACY_PROMISE
from tunedesk.core.paths import file_locations


def test_file_locations_follow_the_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNEDESK_HOME", str(tmp_path / "home"))
    for var in ("TUNEDESK_MODELS", "TUNEDESK_VENDOR"):
        monkeypatch.delenv(var, raising=False)
    places = file_locations()
    assert places[0] == ("Everything TuneDesk keeps", tmp_path / "home")
    assert all(path.is_relative_to(tmp_path / "home") for _what, path in places)
    assert "Training runs" in places[1][0] and places[1][1].name == "runs"


def test_the_privacy_promise_names_the_one_exception() -> None:
    assert "stay on this computer" in PRIVACY_PROMISE and "tunedesk setup" in PRIVACY_PROMISE
