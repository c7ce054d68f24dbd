"""Nothing leaves the machine: switch every Hugging Face library to offline mode before it is imported, and
guard this process's sockets so that a connection to another machine fails loudly instead of connecting.

Every entry point (the CLI, the GUI, the worker) calls `enforce_offline()` first. The guard lets through what
TuneDesk needs on one machine: Unix sockets (Qt, D-Bus) and loopback addresses (accelerate/torch's process
group on 127.0.0.1 for multi-process training). Anything else raises `NetworkBlockedError`.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

from tunedesk.core.errors import TuneDeskError

# Said in the app's Help menu and the README's Privacy section; what enforce_offline() below makes true.
PRIVACY_PROMISE = (
    "Your data and your models stay on this computer. TuneDesk sends nothing anywhere: no telemetry and no "
    "network calls while it runs (only `tunedesk setup` downloads, once). Model weights are read from "
    "safetensors, and model code from the internet never runs unless you allow it."
)

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class NetworkBlockedError(TuneDeskError, ConnectionRefusedError):
    """A connection to another machine was attempted in a TuneDesk process. A ConnectionError too, so that a
    library that copes with being offline (huggingface_hub, say) treats it as no network."""


def enforce_offline(env: dict[str, str] | None = None) -> dict[str, str]:
    """Set the offline switches in `env` (default: this process, whose sockets are then guarded too) and
    return it.

    Call before importing transformers/datasets/huggingface_hub: they read these once at import.
    """
    target = os.environ if env is None else env
    for key, value in OFFLINE_ENV.items():
        target[key] = value
    if env is None and not spans_machines(os.environ):
        install_network_guard()
    return target  # type: ignore[return-value]


def spans_machines(env: Any) -> bool:
    """True in a worker that a launcher started as part of a run over several machines (docs/distributed.md):
    its process group must reach the other machines, which the user set up on purpose. torchrun/accelerate
    set WORLD_SIZE (all processes) and LOCAL_WORLD_SIZE (those on this machine)."""
    try:
        return int(env.get("WORLD_SIZE", 1)) > int(env.get("LOCAL_WORLD_SIZE", env.get("WORLD_SIZE", 1)))
    except ValueError:
        return False


def install_network_guard() -> None:
    """Make connect/connect_ex/sendto and name lookups refuse other machines in this process (idempotent)."""
    cls = socket.socket
    if getattr(cls.connect, "_tunedesk_guard", False):
        return
    for name in ("connect", "connect_ex", "sendto"):
        setattr(cls, name, _guarded(getattr(cls, name), name))
    lookup = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _local_host(host, numeric_ok=True):
            raise _blocked(host, "look up")
        return lookup(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def _guarded(method: Any, name: str) -> Any:
    def guarded(self: socket.socket, *args: Any) -> Any:
        address = args[-1] if args else None  # sendto(data[, flags], address); connect(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
            if not _local_host(address[0]):
                raise _blocked(f"{address[0]}:{address[1]}", "connect to")
        return method(self, *args)

    guarded._tunedesk_guard = True  # type: ignore[attr-defined]
    guarded.__name__ = name
    return guarded


def _local_host(host: Any, numeric_ok: bool = False) -> bool:
    """True for loopback and this machine's own names; `numeric_ok`: any numeric address (a lookup of a
    number asks nobody; connecting to it is checked again)."""
    if host is None or host in ("", b""):
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    text = str(host).strip("[]").split("%")[0].lower()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text in LOCAL_NAMES or text.endswith(".localhost") or text == socket.gethostname().lower()
    return numeric_ok or ip.is_loopback or ip.is_unspecified


BLOCKED_HINT = (
    "Nothing needs the network while TuneDesk runs. If a model or a library tried to download something, "
    "install it first (`tunedesk setup`, or copy the model folder), then try again."
)


def _blocked(address: Any, action: str) -> NetworkBlockedError:
    message = f"TuneDesk works offline and refused to {action} {address}: nothing leaves this computer."
    return NetworkBlockedError(message, BLOCKED_HINT, "network_blocked", {"address": str(address)})
