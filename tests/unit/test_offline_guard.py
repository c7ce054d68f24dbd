"""Offline, proven in-process: once a TuneDesk entry point has started, a connection to another machine
raises a clear error instead of connecting; loopback and Unix sockets (Qt, the process group of multi-process
training) still work. conftest.py calls enforce_offline(), as every entry point does."""

from __future__ import annotations

import socket
import threading

import pytest

from tunedesk.core.errors import TuneDeskError
from tunedesk.core.offline import NetworkBlockedError, enforce_offline, spans_machines
from tunedesk.core.paths import sample_dataset

PUBLIC = [("93.184.216.34", 80), ("1.1.1.1", 443), ("192.168.1.1", 22)]


@pytest.fixture(autouse=True)
def guarded() -> None:
    enforce_offline()


@pytest.mark.parametrize("address", PUBLIC)
def test_a_connection_to_another_machine_raises_a_clear_error(address: tuple[str, int]) -> None:
    with pytest.raises(NetworkBlockedError) as info:
        socket.create_connection(address, timeout=5)
    err = info.value
    assert isinstance(err, TuneDeskError) and isinstance(err, ConnectionError)
    assert err.kind == "network_blocked" and err.where["address"] == f"{address[0]}:{address[1]}"
    assert "offline" in err.message and err.hint


def test_ipv6_udp_and_connect_ex_are_guarded_too() -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s, pytest.raises(NetworkBlockedError):
        s.connect(("2606:4700:4700::1111", 443, 0, 0))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s, pytest.raises(NetworkBlockedError):
        s.connect_ex(("8.8.8.8", 53))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, pytest.raises(NetworkBlockedError):
        s.sendto(b"x", ("8.8.8.8", 53))


def test_looking_up_a_remote_name_is_refused_before_any_dns_query() -> None:
    with pytest.raises(NetworkBlockedError, match="huggingface.co"):
        socket.getaddrinfo("huggingface.co", 443)
    with pytest.raises(NetworkBlockedError):
        socket.create_connection(("huggingface.co", 443), timeout=5)
    assert socket.getaddrinfo("localhost", 80)


@pytest.mark.parametrize(("family", "host"), [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET, "localhost")])
def test_loopback_still_connects(family: int, host: str) -> None:
    with socket.socket(family, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        accepted = threading.Thread(target=lambda: server.accept()[0].close())
        accepted.start()
        with socket.create_connection((host, port), timeout=10) as client:
            assert client.getpeername()[1] == port
        accepted.join(10)


def test_unix_sockets_still_connect() -> None:
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        a.sendall(b"ok")
        assert b.recv(2) == b"ok"


def test_the_cli_entry_point_installs_the_guard(capsys: pytest.CaptureFixture[str]) -> None:
    from tunedesk.cli.main import main

    socket.socket.connect = socket.socket.__mro__[1].connect  # as if no entry point had run yet
    assert main(["data", "inspect", str(sample_dataset()), "--json"]) == 0
    assert getattr(socket.socket.connect, "_tunedesk_guard", False)
    with pytest.raises(NetworkBlockedError):
        socket.create_connection(PUBLIC[0], timeout=5)
    capsys.readouterr()


def test_a_run_over_several_machines_is_the_one_case_left_unguarded() -> None:
    # accelerate launch with num_machines 2: the process group must reach the other machine.
    assert spans_machines({"WORLD_SIZE": "4", "LOCAL_WORLD_SIZE": "2"})
    # --processes N on this machine, a plain worker, the GUI: guarded.
    assert not spans_machines({"WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2"})
    assert not spans_machines({})
    assert not spans_machines({"WORLD_SIZE": "x"})
