"""Laptop-aware training: the sleep inhibitor through the platform's service, and the battery readings."""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.presets.preset import Preset
from tunedesk.core.training.power import BATTERY_ENV, PowerWatch, inhibit_command, keep_awake, read_battery

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="systemd-inhibit is Linux's")


def _fake_tool(folder: Path, name: str, script: str) -> Path:
    folder.mkdir(exist_ok=True)
    tool = folder / name
    tool.write_text("#!/bin/sh\n" + script)
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return tool


def test_the_commands_per_platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    for name in ("systemd-inhibit", "tail", "caffeinate"):
        _fake_tool(bin_dir, name, "exit 0\n")
    monkeypatch.setenv("PATH", str(bin_dir))
    linux = inhibit_command("linux", 4242, "TuneDesk is training r1")
    assert linux is not None and linux[0] == "systemd-inhibit"
    assert {"--what=sleep:idle", "--mode=block", "--why=TuneDesk is training r1"} <= set(linux)
    assert linux[-4:] == ["tail", "--pid=4242", "-f", "/dev/null"]  # the lock ends with the worker
    assert inhibit_command("darwin", 4242, "x") == ["caffeinate", "-i", "-s", "-w", "4242"]
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert inhibit_command("linux", 1, "x") is None and inhibit_command("darwin", 1, "x") is None


@linux_only
def test_keep_awake_holds_the_lock_for_the_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in systemd-inhibit that, like the real one, records the lock and runs its command."""
    record = tmp_path / "inhibit.args"
    script = f'echo "$$ $@" > {record}\nwhile [ "${{1#--}}" != "$1" ]; do shift; done\nexec "$@"\n'
    _fake_tool(tmp_path / "bin", "systemd-inhibit", script)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with keep_awake(True, "TuneDesk is training r1") as held:
        assert held
        pid, *args = record.read_text().split()
        assert "--what=sleep:idle" in args and f"--pid={os.getpid()}" in args
        os.kill(int(pid), 0)  # the lock is held while the block runs
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists()  # and released after it


@linux_only
def test_a_refused_lock_is_logged_and_training_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _fake_tool(tmp_path / "bin", "systemd-inhibit", 'echo "Failed to connect to bus" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with caplog.at_level(logging.INFO, logger="tunedesk.training"), keep_awake(True, "x") as held:
        assert held is False
    assert "Failed to connect to bus" in caplog.text and "training goes on" in caplog.text
    with keep_awake(False, "x") as held:  # the setting off: nothing is started at all
        assert held is False


def test_battery_readings_and_when_to_pause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sensor = tmp_path / "battery.json"
    monkeypatch.setenv(BATTERY_ENV, str(sensor))

    def set_battery(percent: float, plugged: bool) -> None:
        sensor.write_text(json.dumps({"percent": percent, "plugged": plugged}))

    set_battery(15, False)
    assert read_battery() is not None and read_battery().percent == 15
    assert PowerWatch(20).battery_low()
    assert not PowerWatch(0).battery_low()  # 0 = off
    assert not PowerWatch(10).battery_low()  # above the threshold
    set_battery(15, True)
    assert not PowerWatch(20).battery_low()  # on mains power, whatever the charge
    sensor.write_text("garbage")
    assert read_battery() is None and not PowerWatch(20).battery_low()  # no reading: never pause


def test_the_settings_have_help_and_bounds() -> None:
    help_ = Preset.field_help()
    assert help_["prevent_sleep"] and help_["pause_on_battery_below"]
    assert Preset().prevent_sleep is True and Preset().pause_on_battery_below == 20
    with pytest.raises(TuneDeskError) as err:
        Preset.from_dict({"pause_on_battery_below": 120})
    assert err.value.where["field"] == "pause_on_battery_below"


def test_resume_during_a_battery_pause_trains_on_until_plugged_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Train page's Resume while the worker waited for mains power once did nothing at all."""
    import threading

    from tunedesk.core.training.control import Control

    sensor = tmp_path / "battery.json"
    monkeypatch.setenv(BATTERY_ENV, str(sensor))
    sensor.write_text(json.dumps({"percent": 12, "plugged": False}))
    watch, control = PowerWatch(20), Control()
    assert watch.battery_low()
    waiting = threading.Thread(target=watch.wait_for_mains, args=(control, 0.05), daemon=True)
    waiting.start()
    time.sleep(0.2)
    assert waiting.is_alive()  # still on battery: it waits
    control.request("resume")
    waiting.join(timeout=10)
    assert not waiting.is_alive() and not control.paused and not control.cancelled
    assert not watch.battery_low()  # resumed on battery: not paused again at the next step
    sensor.write_text(json.dumps({"percent": 12, "plugged": True}))
    assert not watch.battery_low()
    sensor.write_text(json.dumps({"percent": 12, "plugged": False}))
    assert watch.battery_low()  # unplugged again after mains power: the threshold holds again
    control.request("cancel")
    watch.wait_for_mains(control, 0.05)  # a cancel ends the wait too, and is not taken for a resume
    assert control.cancelled and not watch.waived
