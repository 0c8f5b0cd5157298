"""Reading numbers out of JSON bodies, shared by the models and the error parser."""

from __future__ import annotations

from typing import Any


def is_int(value: object) -> bool:
    """A real integer (JSON `true` arrives as a Python bool, which is an int subclass)."""
    return isinstance(value, int) and not isinstance(value, bool)


# JavaScript's largest exact integer: apiframe's numbers come from JS. A count beyond it (a
# `creditCost` of 1e300) is no count at all, and would not fit the journal's SQLite INTEGER.
MAX_SAFE_INTEGER = 2**53 - 1


def json_int(value: Any) -> int | None:
    """An integral JSON number as int (JS has no int/float split); None for anything else,
    including numbers outside ±MAX_SAFE_INTEGER."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        return None
    return number if -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER else None
