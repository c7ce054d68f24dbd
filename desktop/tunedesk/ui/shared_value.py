"""SharedValue: one observable value of AppState, so each value is declared in one line, not in three methods."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def as_is(value: Any) -> Any:
    return value


def text(value: Any) -> str:
    """None (or "") -> "": what the pages expect of a path or a name."""
    return str(value or "")


class SharedValue:
    """A value on a QObject that emits `signal_name` with the new value when an assignment changes it.

    Assigning the same value again emits nothing, so two pages that echo each other's updates cannot loop.
    `convert` normalises what is assigned (e.g. `text`, `bool`); the value before any assignment is
    ``convert(None)``. The owner class also gets a ``set_<name>(value)`` method doing the same assignment,
    to connect a signal to.
    """

    def __init__(self, signal_name: str, convert: Callable[[Any], Any] = as_is) -> None:
        self.signal_name = signal_name
        self.convert = convert
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

        def setter(obj: Any, value: Any) -> None:
            self.__set__(obj, value)

        setter.__name__ = setter.__qualname__ = f"set_{name}"
        setattr(owner, setter.__name__, setter)

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return obj.__dict__.get(self.name, self.convert(None))

    def __set__(self, obj: Any, value: Any) -> None:
        value = self.convert(value)
        if value != self.__get__(obj):
            obj.__dict__[self.name] = value
            getattr(obj, self.signal_name).emit(value)
