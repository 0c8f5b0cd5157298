"""Reading numbers out of JSON bodies, shared by the models and the error parser."""

from __future__ import annotations

from typing import Any


def is_int(value: object) -> bool:
    """A real integer (JSON `true` arrives as a Python bool, which is an int subclass)."""
    return isinstance(value, int) and not isinstance(value, bool)


def json_int(value: Any) -> int | None:
    """An integral JSON number as int (JS has no int/float split); None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
