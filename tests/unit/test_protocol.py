from __future__ import annotations

import io
import json

import pytest

from tunedesk.core import protocol
from tunedesk.core.protocol import EventWriter, ProtocolError, decode, encode, make_event, read_events


def test_make_event_requires_fields() -> None:
    with pytest.raises(ValueError, match="missing"):
        make_event("step", step=1)
    with pytest.raises(ValueError, match="unknown"):
        make_event("nonsense")
    ev = make_event("step", step=1, total_steps=10, loss=2.5)
    assert ev["v"] == protocol.PROTOCOL_VERSION and ev["event"] == "step"


def test_roundtrip_and_one_line() -> None:
    ev = make_event("log", message="line one\nline two é")
    line = encode(ev)
    assert "\n" not in line
    assert decode(line) == ev
    assert decode(line.encode()) == ev


def test_nan_loss_becomes_null() -> None:
    line = encode(make_event("step", step=3, total_steps=5, loss=float("nan")))
    assert json.loads(line)["loss"] is None


@pytest.mark.parametrize(
    "line, why",
    [
        ("", "empty"),
        ("{not json", "not JSON"),
        ("[1, 2]", "not an event"),
        ('{"event": "step"}', "not an event"),
        ('{"v": 99, "event": "log", "message": "x"}', "version"),
        ('{"v": 1, "event": "step", "step": 1}', "missing"),
    ],
)
def test_decode_rejects(line: str, why: str) -> None:
    with pytest.raises(ProtocolError, match=why):
        decode(line)


def test_unknown_kinds_and_extra_fields_pass() -> None:
    """Readers ignore what they do not know, so fields and kinds can be added without a version bump."""
    ev = decode('{"v": 1, "event": "future_thing", "x": 1}')
    assert ev["x"] == 1


def test_writer_streams_and_appends(tmp_path) -> None:
    out = io.StringIO()
    log = tmp_path / "events.jsonl"
    w = EventWriter(stream=out, log_path=log)
    w.emit("started", run_dir=str(tmp_path), total_steps=4)
    w.emit("finished", status="completed")
    assert [json.loads(x)["event"] for x in out.getvalue().splitlines()] == ["started", "finished"]
    # A torn last line (a crash mid-write) is skipped, not fatal.
    with open(log, "a") as fh:
        fh.write('{"v": 1, "event": "st')
    assert [e["event"] for e in read_events(log)] == ["started", "finished"]
