"""Training on a laptop: keep it awake while a run trains, and pause on a low battery until it is plugged in.

Sleep is held off through the platform's own service, never by faking input:
- Linux: ``systemd-inhibit --what=sleep:idle --mode=block`` (logind) around a ``tail --pid=WORKER`` that ends
  with the worker, so even a kill -9 of the worker releases the lock.
- macOS: ``caffeinate -i -s -w WORKER`` (ends with the worker by itself).
- Windows: ``SetThreadExecutionState(ES_CONTINUOUS | ES_SYSTEM_REQUIRED)``, released when the process ends.
Where none of these works (a server, a container without logind) training goes on and the log says so once.

The battery is read with psutil's sensor. ``TUNEDESK_BATTERY_FILE`` names a file holding
``{"percent": 15, "plugged": false}`` that replaces the sensor: how tests (and a curious user) feed values in.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tunedesk.core.training.control import Control

log = logging.getLogger("tunedesk.training")

BATTERY_ENV = "TUNEDESK_BATTERY_FILE"
SENSOR_EVERY_S = 10.0  # the real sensor is read at most this often; the test file at every check
_ES_CONTINUOUS, _ES_SYSTEM_REQUIRED = 0x80000000, 0x00000001


def inhibit_command(platform: str, pid: int, why: str) -> list[str] | None:
    """The command that keeps the system awake while process `pid` lives, or None where it takes no command."""
    if platform.startswith("linux"):
        if not (shutil.which("systemd-inhibit") and shutil.which("tail")):
            return None
        return [
            "systemd-inhibit", "--what=sleep:idle", "--who=TuneDesk", f"--why={why}", "--mode=block",
            "tail", f"--pid={pid}", "-f", "/dev/null",
        ]  # fmt: skip
    if platform == "darwin":
        return ["caffeinate", "-i", "-s", "-w", str(pid)] if shutil.which("caffeinate") else None
    return None


@contextmanager
def keep_awake(enabled: bool, why: str) -> Iterator[bool]:
    """Hold off system sleep inside the block; yields whether the platform service accepted the request."""
    if not enabled:
        yield False
        return
    if sys.platform == "win32":
        kernel = ctypes.windll.kernel32  # type: ignore[attr-defined]
        held = bool(kernel.SetThreadExecutionState(_ES_CONTINUOUS | _ES_SYSTEM_REQUIRED))
        _report(held, "SetThreadExecutionState refused")
        try:
            yield held
        finally:
            kernel.SetThreadExecutionState(_ES_CONTINUOUS)
        return
    command = inhibit_command(sys.platform, os.getpid(), why)
    if command is None:
        _report(False, "no systemd-inhibit or caffeinate on this system")
        yield False
        return
    proc = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        proc.wait(timeout=1.0)  # a refused request ends at once ("Failed to connect to bus")
    except subprocess.TimeoutExpired:
        _report(True, "")
        try:
            yield True
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        return
    _report(False, (proc.stderr.read() if proc.stderr else "").strip() or f"{command[0]} exited")
    yield False


def _report(held: bool, why_not: str) -> None:
    if held:
        log.info("the computer will not go to sleep while this run trains")
    else:
        log.info("could not keep the computer awake (%s): training goes on; sleep pauses it", why_not)


@dataclass
class Battery:
    percent: float
    plugged: bool


def read_battery() -> Battery | None:
    """The battery's charge and whether mains power is connected; None on a machine without a battery."""
    path = os.environ.get(BATTERY_ENV)
    if path:
        try:
            data = json.loads(open(path, encoding="utf-8").read())
            return Battery(float(data["percent"]), bool(data["plugged"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
    try:
        import psutil

        sensor = psutil.sensors_battery()
    except (ImportError, AttributeError, OSError, RuntimeError):
        return None
    return None if sensor is None else Battery(float(sensor.percent), bool(sensor.power_plugged))


class PowerWatch:
    """Tells the trainer when to checkpoint and pause for the battery, and waits for mains power.

    The user may resume a battery pause ("resume anyway": the machine is about to be plugged in, or the run is
    nearly done). The run then trains on battery without pausing for it again until mains power has been
    seen, so that one Resume is not undone by the next step's reading.
    """

    def __init__(self, pause_below: int) -> None:
        self.pause_below = pause_below
        self._last_read = float("-inf")
        self._last: Battery | None = None
        self.waived = False  # the user resumed on battery: no battery pause until it is plugged in again

    def battery(self) -> Battery | None:
        now = time.monotonic()
        if os.environ.get(BATTERY_ENV) or now - self._last_read >= SENSOR_EVERY_S:
            self._last, self._last_read = read_battery(), now
        return self._last

    def battery_low(self) -> bool:
        """True when the run should stop here: on battery, and below the threshold (0 = never)."""
        if self.pause_below <= 0:
            return False
        bat = self.battery()
        if bat is not None and bat.plugged:
            self.waived = False
        low = bat is not None and not bat.plugged and bat.percent < self.pause_below and not self.waived
        if low:
            assert bat is not None
            log.warning(
                "battery at %.0f%% and not charging (pausing below %s%%): checkpoint saved, training paused "
                "until the computer is plugged in (or Resume continues on battery)",
                bat.percent,
                self.pause_below,
            )
        return low

    def wait_for_mains(self, control: Control, interval: float = 1.0) -> None:
        """Block until mains power is back (or the charge is above the threshold again), a resume, or a
        cancel."""
        # A battery pause is a pause: the user's Resume ends it as it ends any other (it once did nothing
        # here, the button enabled and the run still waiting for the plug).
        control.paused = True
        try:
            while not control.cancelled:
                control.poll()
                if not control.paused and not control.cancelled:
                    self.waived = True
                    log.warning(
                        "resumed on battery as asked: training goes on and will not pause for the battery "
                        "again until the computer has been plugged in"
                    )
                    return
                self._last_read = float("-inf")
                bat = self.battery()
                if bat is None or bat.plugged or bat.percent >= self.pause_below:
                    log.info("mains power is back: training continues")
                    return
                time.sleep(interval)
        finally:
            control.paused = False
